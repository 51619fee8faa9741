/**
 * The counting rules written the slow, obvious way, for the differential test of the
 * wasm kernel: decode the whole input into units (a character, or one invalid
 * sequence, with its bytes), cut tokens out of the unit list, key each one. No pieces,
 * no ranges, no hash table, no carry.
 */
import { LONG_TOKEN_SUFFIX, TOKEN_CAP_BYTES } from '../../lib/kernel/long-tokens.js';
import { isChineseChar, JIEBA_WINDOW_CHARS, jiebaRun } from '../../lib/segmenter.js';
import {
  foldSegment,
  foldWord,
  isPythonWhitespace,
  JOINER,
  type Mode,
  SCRIPT_RUN,
  SEGMENT_WINDOW_CHARS,
  segmentRun,
  WORD,
  wordClass,
} from '../../lib/tokenize.js';
import { decodeUnit, unitLength } from '../../lib/utf8.js';

interface Unit {
  /** The code point, or U+FFFD for an invalid sequence. */
  cp: number;
  invalid: boolean;
  start: number;
  end: number;
}

export interface ReferenceCounts {
  counts: Map<string, number>;
  tokens: number;
  invalidSequences: number;
  longTokens: number;
}

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

function unitsOf(bytes: Uint8Array, bom = true): Unit[] {
  const units: Unit[] = [];
  let i = bom && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (i < bytes.length) {
    const u = decodeUnit(bytes, i, bytes.length, true);
    const end = i + unitLength(u);
    units.push({ cp: u > 0 ? u >>> 3 : 0xfffd, invalid: u < 0, start: i, end });
    i = end;
  }
  return units;
}

/** The text of units[from, to) as a single decoding pass gives it. */
function textOf(bytes: Uint8Array, units: Unit[], from: number, to: number): string {
  return decoder.decode(bytes.subarray(units[from]?.start ?? 0, units[to - 1]?.end ?? 0));
}

/** A long token's key text: its units that start within the cap, whole. */
function cappedText(bytes: Uint8Array, units: Unit[], from: number, to: number): string {
  let k = from;
  while (k < to && (units[k] as Unit).start < (units[from] as Unit).start + TOKEN_CAP_BYTES) k++;
  return textOf(bytes, units, from, k);
}

export function referenceCounts(mode: Mode, bytes: Uint8Array): ReferenceCounts {
  const { tokens, invalidSequences, longTokens } = referenceTokens(mode, bytes);
  const counts = new Map<string, number>();
  for (const key of tokens) counts.set(key, (counts.get(key) ?? 0) + 1);
  return { counts, tokens: tokens.length, invalidSequences, longTokens };
}

export interface ReferenceTokens {
  /** Every token's key, in the order of the text. */
  tokens: string[];
  invalidSequences: number;
  longTokens: number;
}

/** The tokens of `bytes` in order; `bom`: a leading byte-order mark is not text (a file's start). */
export function referenceTokens(mode: Mode, bytes: Uint8Array, bom = true): ReferenceTokens {
  const units = unitsOf(bytes, bom);
  const result: ReferenceTokens = {
    tokens: [],
    invalidSequences: units.filter((u) => u.invalid).length,
    longTokens: 0,
  };
  const add = (key: string) => {
    result.tokens.push(key);
  };
  const byteLength = (from: number, to: number) =>
    (units[to - 1] as Unit).end - (units[from] as Unit).start;
  /** A token of units[from, to), keyed by `key` (of its text), capped when too long. */
  const token = (from: number, to: number, key: (text: string) => string) => {
    if (byteLength(from, to) > TOKEN_CAP_BYTES) {
      result.longTokens++;
      add(key(cappedText(bytes, units, from, to)) + LONG_TOKEN_SUFFIX);
    } else add(key(textOf(bytes, units, from, to)));
  };

  if (mode === 'whitespace') {
    const space = (u: Unit) => !u.invalid && isPythonWhitespace(u.cp);
    for (let i = 0; i < units.length; ) {
      if (space(units[i] as Unit)) {
        i++;
        continue;
      }
      let j = i;
      while (j < units.length && !space(units[j] as Unit)) j++;
      token(i, j, (text) => text);
      i = j;
    }
    return result;
  }

  const cls = units.map((u) => (u.invalid ? -1 : wordClass(u.cp)));
  for (let i = 0; i < units.length; ) {
    if (cls[i] === WORD) {
      let j = i + 1;
      for (;;) {
        if (cls[j] === WORD) j++;
        else if (cls[j] === JOINER && cls[j + 1] === WORD) j += 2;
        else break;
      }
      token(i, j, foldWord);
      i = j;
    } else if (cls[i] === SCRIPT_RUN) {
      let j = i;
      while (cls[j] === SCRIPT_RUN) j++;
      // Windows from the run's start, the last segment of each carried into the next
      // (lib/kernel/segment-runs.ts): jieba's (JIEBA_WINDOW_CHARS) while every character
      // of the next JIEBA_WINDOW_CHARS (or to the run's end) is Chinese, the default
      // segmenter `auto`; else ICU's (SEGMENT_WINDOW_CHARS).
      const segment = (text: string) => {
        const encoded = new TextEncoder().encode(text);
        if (encoded.length > TOKEN_CAP_BYTES) {
          result.longTokens++;
          const segmentUnits = unitsOf(encoded);
          const capped = cappedText(encoded, segmentUnits, 0, segmentUnits.length);
          add(foldSegment(capped) + LONG_TOKEN_SUFFIX);
        } else add(foldSegment(text));
      };
      const chars: string[] = [];
      for (let k = i; k < j; k++) chars.push(String.fromCodePoint((units[k] as Unit).cp));
      for (let k = 0; k < chars.length; ) {
        const ahead = chars.slice(k, k + JIEBA_WINDOW_CHARS);
        const jieba = ahead.every((ch) => isChineseChar(ch.codePointAt(0) as number));
        const size = jieba ? JIEBA_WINDOW_CHARS : SEGMENT_WINDOW_CHARS;
        const text = chars.slice(k, k + size).join('');
        const { words, rest } = (jieba ? jiebaRun : segmentRun)(text, chars.length - k < size);
        for (const w of words) segment(w);
        k += [...text].length - [...rest].length;
      }
      i = j;
    } else i++;
  }
  return result;
}
