import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LONG_TOKEN_SUFFIX, TOKEN_CAP_BYTES } from '../../lib/kernel/long-tokens.js';
import { countBytes } from '../../lib/kernel/range-counter.js';
import type { Mode } from '../../lib/tokenize.js';
import {
  fanOut,
  invalidSequencesIn,
  mergeEntries,
  pythonSplitCounts,
  referenceWords,
  sortedEntries,
} from '../support/oracle.js';
import { hostileBytes, unicodeText } from '../support/text.js';

const encode = (s: string) => new TextEncoder().encode(s);

function counts(mode: Mode, input: string | Uint8Array): Map<string, number> {
  const map = new Map<string, number>();
  mergeEntries(map, countBytes(mode, typeof input === 'string' ? encode(input) : input).entries);
  return map;
}

describe('whitespace mode', () => {
  it('counts like Python split: case and punctuation kept', () => {
    expect(sortedEntries(counts('whitespace', 'The cat, the cat.\tThe\n'))).toEqual([
      ['The', 2],
      ['cat,', 1],
      ['cat.', 1],
      ['the', 1],
    ]);
  });

  it('splits on every Python whitespace code point and nothing else', () => {
    expect(
      sortedEntries(
        counts('whitespace', 'a\u0085b\u00a0c\u1680d\u2007e\u3000f\x1cg\u200bh\ufeffi'),
      ),
    ).toEqual([
      ['a', 1],
      ['b', 1],
      ['c', 1],
      ['d', 1],
      ['e', 1],
      ['f', 1],
      ['g\u200bh\ufeffi', 1],
    ]);
  });

  it('ignores a leading BOM but keeps a BOM inside the text', () => {
    expect(sortedEntries(counts('whitespace', '\ufeffword \ufeffword'))).toEqual([
      ['word', 1],
      ['\ufeffword', 1],
    ]);
  });

  it('decodes invalid bytes as U+FFFD inside tokens and counts each sequence', () => {
    const bytes = new Uint8Array([0x61, 0xff, 0x62, 0x20, 0xe2, 0x80, 0x20, 0x61, 0xfe, 0x62]);
    const result = countBytes('whitespace', bytes);
    const map = new Map<string, number>();
    mergeEntries(map, result.entries);
    expect(map.get('a\ufffdb')).toBe(2); // two different bad bytes, one decoded word
    expect(map.get('\ufffd')).toBe(1);
    expect(result.invalidSequences).toBe(3);
  });

  it('matches Python split on generated Unicode text', () => {
    fc.assert(
      fc.property(unicodeText, (bytes) => {
        expect(sortedEntries(counts('whitespace', bytes))).toEqual(
          sortedEntries(pythonSplitCounts(bytes)),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('matches Python split on ill-formed bytes and counts every replacement', () => {
    fc.assert(
      fc.property(hostileBytes, (bytes) => {
        const result = countBytes('whitespace', bytes);
        const map = new Map<string, number>();
        mergeEntries(map, result.entries);
        expect(sortedEntries(map)).toEqual(sortedEntries(pythonSplitCounts(bytes)));
        expect(result.invalidSequences).toBe(invalidSequencesIn(bytes));
      }),
      { numRuns: 500 },
    );
  });
});

describe('words mode', () => {
  it('folds case, keeps inner apostrophes and hyphens, drops outer ones', () => {
    expect(
      sortedEntries(counts('words', "Don't DON'T don’t 'tis mother-in-law -- rock-- 'quoted'")),
    ).toEqual([
      ["don't", 3],
      ['mother-in-law', 1],
      ['quoted', 1],
      ['rock', 1],
      ['tis', 1],
    ]);
  });

  it('splits on punctuation and symbols, keeps digits', () => {
    expect(sortedEntries(counts('words', 'Hello, world! 3.14 x_y 😀z'))).toEqual([
      ['14', 1],
      ['3', 1],
      ['hello', 1],
      ['world', 1],
      ['x', 1],
      ['y', 1],
      ['z', 1],
    ]);
  });

  it('normalizes to NFC and folds Unicode case', () => {
    expect(sortedEntries(counts('words', 'Café cafe\u0301 CAFÉ Straße STRASSE ΟΔΟΣ οδος'))).toEqual(
      [
        ['café', 3],
        ['strasse', 2],
        ['οδοσ', 2],
      ],
    );
  });

  it('segments Chinese, Japanese and Thai with Intl.Segmenter', () => {
    expect(
      sortedEntries(
        counts('words', '東京タワーは日本の電波塔です。我们是中国人民 ภาษาไทย iPhone売り場'),
      ),
    ).toEqual(
      sortedEntries(
        new Map([
          ['東京タワー', 1],
          ['は', 1],
          ['日本', 1],
          ['の', 1],
          ['電波', 1],
          ['塔', 1],
          ['です', 1],
          ['我们', 1],
          ['是', 1],
          ['中国', 1],
          ['人民', 1],
          ['ภาษา', 1],
          ['ไทย', 1],
          ['iphone', 1],
          ['売り場', 1],
        ]),
      ),
    );
  });

  it('treats invalid bytes as separators and counts them', () => {
    const result = countBytes('words', new Uint8Array([0x61, 0xff, 0x62]));
    expect(
      sortedEntries(
        new Map(
          result.entries
            .trim()
            .split('\n')
            .map((l) => [l.split('\t')[0] as string, 1]),
        ),
      ),
    ).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    expect(result.invalidSequences).toBe(1);
  });

  it('matches the character-by-character reference on generated text', () => {
    fc.assert(
      fc.property(hostileBytes, (bytes) => {
        expect(sortedEntries(counts('words', bytes))).toEqual(sortedEntries(referenceWords(bytes)));
      }),
      { numRuns: 500 },
    );
  });

  it('segments a long run in windows without depending on where it is split', () => {
    const run = '日本の電波塔です東京タワーは'.repeat(100);
    const bytes = encode(`${run} end`);
    const single = counts('words', bytes);
    expect(sortedEntries(single)).toEqual(sortedEntries(referenceWords(bytes)));
    for (const chunk of [1, 7, 100, 1000]) {
      expect(sortedEntries(fanOut('words', bytes, chunk, 5).counts)).toEqual(sortedEntries(single));
    }
  });
});

describe('ranges', () => {
  for (const mode of ['words', 'whitespace'] as const) {
    it(`counts a word split across two chunks once (${mode})`, () => {
      const bytes = encode('alpha beta gamma');
      for (let chunk = 1; chunk <= bytes.length; chunk++) {
        expect(sortedEntries(fanOut(mode, bytes, chunk).counts)).toEqual([
          ['alpha', 1],
          ['beta', 1],
          ['gamma', 1],
        ]);
      }
    });

    it(`handles ranges that start inside a multi-byte character or whitespace run (${mode})`, () => {
      const bytes = encode('日本\u3000\u3000語 😀x\u2028\u2029é');
      const single = counts(mode, bytes);
      for (let chunk = 1; chunk <= bytes.length; chunk++) {
        expect(sortedEntries(fanOut(mode, bytes, chunk, 1).counts)).toEqual(sortedEntries(single));
      }
    });

    it(`gives the single-pass counts for any chunk and piece size (${mode})`, () => {
      fc.assert(
        fc.property(
          hostileBytes,
          fc.integer({ min: 1, max: 64 }),
          fc.integer({ min: 1, max: 40 }),
          (bytes, chunk, piece) => {
            const single = countBytes(mode, bytes);
            const singleCounts = new Map<string, number>();
            mergeEntries(singleCounts, single.entries);
            const fanned = fanOut(mode, bytes, chunk, piece);
            expect(sortedEntries(fanned.counts)).toEqual(sortedEntries(singleCounts));
            expect(fanned.tokens).toBe(single.tokens);
            expect(fanned.invalidSequences).toBe(single.invalidSequences);
          },
        ),
        { numRuns: 400 },
      );
    });
  }
});

describe('long tokens', () => {
  for (const mode of ['words', 'whitespace'] as const) {
    it(`counts a token over the cap under its first bytes plus … (${mode})`, () => {
      const long = 'x'.repeat(TOKEN_CAP_BYTES * 3 + 5);
      const bytes = encode(`a ${long} b ${long}y`);
      const single = countBytes(mode, bytes);
      expect(single.longTokens).toBe(2);
      expect(single.tokens).toBe(4);
      const map = new Map<string, number>();
      mergeEntries(map, single.entries);
      expect(map.get(`${'x'.repeat(TOKEN_CAP_BYTES)}${LONG_TOKEN_SUFFIX}`)).toBe(2);
      for (const chunk of [1000, 4096, 5000]) {
        const fanned = fanOut(mode, bytes, chunk, 777);
        expect(sortedEntries(fanned.counts)).toEqual(sortedEntries(map));
        expect(fanned.longTokens).toBe(2);
      }
    });
  }

  it('reads a token far longer than a range only once, past its owner', () => {
    const bytes = encode(`${'z'.repeat(1 << 20)} tail`);
    const fanned = fanOut('whitespace', bytes, 1 << 16, 1 << 12);
    expect(fanned.tokens).toBe(2);
    expect(fanned.longTokens).toBe(1);
    // The owner reads the token to its end; every other range stops at its own end.
    expect(fanned.bytesScanned).toBeLessThan(bytes.length * 2.2);
  });

  for (const mode of ['words', 'whitespace'] as const) {
    it(`keys a long token the same however it is split, stray bytes and all (${mode})`, () => {
      const near = fc.tuple(
        fc.integer({ min: TOKEN_CAP_BYTES - 8, max: TOKEN_CAP_BYTES + 8 }),
        fc.constantFrom('é', '東', '😀', '\u0301', 'x'),
        fc.constantFrom([], [0x80], [0x80, 0x80], [0xbf, 0x80, 0x80]),
      );
      fc.assert(
        fc.property(
          near,
          fc.integer({ min: -2, max: 8 }),
          fc.boolean(),
          ([n, ch, stray], offset, splitPieces) => {
            // Chunk and piece boundaries right around the cap and the character it cuts.
            const chunk = n + offset;
            const piece = splitPieces ? n + offset : 997;
            const bytes = new Uint8Array([
              ...encode('a'.repeat(n)),
              ...encode(ch),
              ...stray,
              ...encode('b ok'),
            ]);
            const single = countBytes(mode, bytes);
            const map = new Map<string, number>();
            mergeEntries(map, single.entries);
            expect(sortedEntries(fanOut(mode, bytes, chunk, piece).counts)).toEqual(
              sortedEntries(map),
            );
          },
        ),
        { numRuns: 150 },
      );
    });

    it(`does not count twice a token that starts before 16+ stray continuation bytes (${mode})`, () => {
      for (const bytes of [
        new Uint8Array([0x61, 0x62, ...Array(16).fill(0x80), 0x63, 0x64, 0x0a]),
        new Uint8Array([0x61, ...Array(40).fill(0x80)]),
        new Uint8Array([0x20, ...Array(33).fill(0xbf), 0x41, 0x20, 0x42]),
      ]) {
        const single = countBytes(mode, bytes);
        for (let chunk = 1; chunk <= bytes.length; chunk++) {
          const fanned = fanOut(mode, bytes, chunk, 7);
          expect(fanned.tokens).toBe(single.tokens);
          expect(fanned.invalidSequences).toBe(single.invalidSequences);
        }
      }
    });
  }
});
