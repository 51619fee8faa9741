import { describe, expect, it } from 'vitest';
import {
  foldWord,
  isPythonWhitespace,
  JOINER,
  PYTHON_WHITESPACE,
  SCRIPT_RUN,
  SEP,
  segmentRun,
  WORD,
  wordClass,
} from '../../lib/tokenize.js';

describe('whitespace set', () => {
  it("is Python's str.isspace set: 29 code points including \\x1c-\\x1f and U+0085", () => {
    expect(PYTHON_WHITESPACE).toHaveLength(29);
    for (const cp of [0x1c, 0x1d, 0x1e, 0x1f, 0x85, 0xa0, 0x3000])
      expect(PYTHON_WHITESPACE).toContain(cp);
  });

  it('isPythonWhitespace agrees with the list over every code point', () => {
    const set = new Set(PYTHON_WHITESPACE);
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (isPythonWhitespace(cp) !== set.has(cp))
        throw new Error(`disagree at U+${cp.toString(16)}`);
    }
  });

  it('leaves out what JavaScript calls whitespace but Python does not', () => {
    expect(isPythonWhitespace(0xfeff)).toBe(false); // JS \s includes the BOM
    expect(isPythonWhitespace(0x200b)).toBe(false); // zero-width space
    expect(isPythonWhitespace(0x180e)).toBe(false);
  });
});

describe('words classes', () => {
  it('classifies letters, digits, joiners, no-space scripts and the rest', () => {
    expect(wordClass('a'.codePointAt(0) as number)).toBe(WORD);
    expect(wordClass('9'.codePointAt(0) as number)).toBe(WORD);
    expect(wordClass('é'.codePointAt(0) as number)).toBe(WORD);
    expect(wordClass('Я'.codePointAt(0) as number)).toBe(WORD);
    expect(wordClass(0x0301)).toBe(WORD); // combining acute stays inside its word
    expect(wordClass("'".codePointAt(0) as number)).toBe(JOINER);
    expect(wordClass(0x2019)).toBe(JOINER);
    expect(wordClass('-'.codePointAt(0) as number)).toBe(JOINER);
    for (const ch of ['東', 'の', 'タ', 'ー', 'ภ'])
      expect(wordClass(ch.codePointAt(0) as number)).toBe(SCRIPT_RUN);
    expect(wordClass('한'.codePointAt(0) as number)).toBe(WORD); // Korean is written with spaces
    for (const ch of ['.', '。', '😀', '_', '\ufffd'])
      expect(wordClass(ch.codePointAt(0) as number)).toBe(SEP);
  });
});

describe('foldWord', () => {
  it('case-folds, composes to NFC and writes typographic joiners as ASCII', () => {
    expect(foldWord('Straße')).toBe(foldWord('STRASSE'));
    expect(foldWord('ΟΔΟΣ')).toBe('οδοσ');
    expect(foldWord('οδος')).toBe('οδοσ');
    expect(foldWord('cafe\u0301')).toBe('café');
    expect(foldWord('Don’t')).toBe("don't");
    expect(foldWord('ﬁsh')).toBe('fish');
  });
});

describe('segmentRun', () => {
  it('splits Japanese, Chinese and Thai runs into words', () => {
    expect(segmentRun('東京タワーは日本の電波塔です', true).words).toEqual([
      '東京タワー',
      'は',
      '日本',
      'の',
      '電波',
      '塔',
      'です',
    ]);
    expect(segmentRun('我们是中国人民', true).words).toEqual(['我们', '是', '中国', '人民']);
    expect(segmentRun('ภาษาไทย', true).words).toEqual(['ภาษา', 'ไทย']);
  });

  it('holds back the last segment of a window that the run continues past', () => {
    const { words, rest } = segmentRun('日本の電波', false);
    expect(words).toEqual(['日本', 'の']);
    expect(rest).toBe('電波');
  });
});
