/**
 * The tokens of one line in order, keyed as the kernel keys them: what n-grams are made
 * of. The wasm kernel counts tokens straight into its tables and never lists them, so
 * this is the same rules (lib/tokenize.ts, the long-token cap, the segmenters' windows
 * of lib/kernel/segment-runs.ts) walked over the line's bytes on the host. A line is
 * whole here: nothing is carried between calls.
 */
import { isAscii } from 'node:buffer';
import type { SegmenterName } from '../segmenter.js';
import {
  ASCII_WHITESPACE,
  ASCII_WORD_CLASS,
  foldWord,
  isPythonWhitespace,
  JOINER,
  type Mode,
  SCRIPT_RUN,
  WORD,
  wordClass,
} from '../tokenize.js';
import { decodeUnit, unitLength } from '../utf8.js';
import { capPrefix, LONG_TOKEN_SUFFIX, TOKEN_CAP_BYTES } from './long-tokens.js';
import { type RunSink, segmentRunAt } from './segment-runs.js';

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const INVALID = -1;

/** Where a line's tokens go, in order. */
export interface TokenOut {
  push(token: string): void;
}

/** What the tokens of a line came to besides themselves. */
export interface LineStats {
  invalidSequences: number;
  longTokens: number;
}

/** Gives the tokens of `buf[s, e)` (one line, no line feed) to `out`, in order. */
export function lineTokens(
  buf: Uint8Array,
  s: number,
  e: number,
  mode: Mode,
  segmenter: SegmenterName,
  out: TokenOut,
  stats: LineStats,
): void {
  // Most lines are ASCII: decoded once, cut by a regular expression of the same rules.
  const view = Buffer.from(buf.buffer, buf.byteOffset + s, e - s);
  if (isAscii(view)) asciiTokens(view.toString('latin1'), mode, out, stats);
  else if (mode === 'whitespace') whitespaceTokens(buf, s, e, out, stats);
  else wordTokens(buf, s, e, segmenter, out, stats);
}

/** Python's whitespace among ASCII characters: str.split()'s separators. */
const ASCII_SPLIT = new RegExp(
  `[^${String.fromCharCode(9, 10, 11, 12, 13, 28, 29, 30, 31, 32)}]+`,
  'g',
);
/** ASCII words: letters and digits, an apostrophe or hyphen only between two of them. */
const ASCII_WORD = /[A-Za-z0-9]+(?:['-][A-Za-z0-9]+)*/g;

/** The tokens of an ASCII line: lib/tokenize.ts's rules, where every character is one byte. */
function asciiTokens(line: string, mode: Mode, out: TokenOut, stats: LineStats): void {
  const words = mode === 'words';
  for (const [token] of line.matchAll(words ? ASCII_WORD : ASCII_SPLIT)) {
    if (token.length <= TOKEN_CAP_BYTES) out.push(words ? token.toLowerCase() : token);
    else {
      stats.longTokens++;
      const prefix = token.slice(0, TOKEN_CAP_BYTES);
      out.push((words ? prefix.toLowerCase() : prefix) + LONG_TOKEN_SUFFIX);
    }
  }
}

/** The text of buf[i, j): a short ASCII token without a decoder. */
function textOf(buf: Uint8Array, i: number, j: number, ascii: boolean): string {
  if (ascii && j - i <= 16) return String.fromCharCode(...buf.subarray(i, j));
  return decoder.decode(buf.subarray(i, j));
}

/** A token of buf[i, j), keyed by `key` of its text; capped past TOKEN_CAP_BYTES. */
function tokenKey(
  buf: Uint8Array,
  i: number,
  j: number,
  ascii: boolean,
  key: (text: string) => string,
  stats: LineStats,
): string {
  if (j - i <= TOKEN_CAP_BYTES) return key(textOf(buf, i, j, ascii));
  stats.longTokens++;
  return key(decoder.decode(capPrefix(buf.subarray(0, j), i))) + LONG_TOKEN_SUFFIX;
}

const same = (text: string) => text;

/** Python's `str.split()`: runs of anything but its whitespace; an invalid sequence is a character. */
function whitespaceTokens(
  buf: Uint8Array,
  s: number,
  e: number,
  out: TokenOut,
  stats: LineStats,
): void {
  let i = s;
  while (i < e) {
    const b = buf[i] as number;
    if (b < 0x80) {
      if (ASCII_WHITESPACE[b] === 1) {
        i++;
        continue;
      }
    } else {
      const u = decodeUnit(buf, i, e, true);
      if (u > 0 && isPythonWhitespace(u >>> 3)) {
        i += u & 7;
        continue;
      }
    }
    let j = i;
    let ascii = true;
    while (j < e) {
      const c = buf[j] as number;
      if (c < 0x80) {
        if (ASCII_WHITESPACE[c] === 1) break;
        j++;
        continue;
      }
      const u = decodeUnit(buf, j, e, true);
      if (u > 0 && isPythonWhitespace(u >>> 3)) break;
      if (u < 0) stats.invalidSequences++;
      ascii = false;
      j += unitLength(u);
    }
    out.push(tokenKey(buf, i, j, ascii, same, stats));
    i = j;
  }
}

/** The `words` class of the unit at buf[i] and its length, packed as class * 8 + length. */
function classAt(buf: Uint8Array, i: number, e: number): number {
  const b = buf[i] as number;
  if (b < 0x80) return (ASCII_WORD_CLASS[b] as number) * 8 + 1;
  const u = decodeUnit(buf, i, e, true);
  if (u < 0) return INVALID * 8 - unitLength(u);
  return wordClass(u >>> 3) * 8 + (u & 7);
}

const classOf = (packed: number) => (packed < 0 ? INVALID : packed >> 3);
const lengthOf = (packed: number) => (packed < 0 ? -packed - 8 : packed & 7);

/** Words mode: words with inner joiners, folded; runs of no-space scripts segmented. */
function wordTokens(
  buf: Uint8Array,
  s: number,
  e: number,
  segmenter: SegmenterName,
  out: TokenOut,
  stats: LineStats,
): void {
  const sink: RunSink = {
    addWord: (word) => out.push(word),
    longToken: () => stats.longTokens++,
  };
  let i = s;
  while (i < e) {
    const here = classAt(buf, i, e);
    const cls = classOf(here);
    if (cls === WORD) {
      let ascii = (buf[i] as number) < 0x80;
      let j = i + lengthOf(here);
      while (j < e) {
        const next = classAt(buf, j, e);
        if (classOf(next) === WORD) {
          ascii &&= (buf[j] as number) < 0x80;
          j += lengthOf(next);
          continue;
        }
        if (classOf(next) !== JOINER) break;
        const k = j + lengthOf(next);
        if (k >= e) break;
        const after = classAt(buf, k, e);
        if (classOf(after) !== WORD) break;
        ascii &&= (buf[j] as number) < 0x80 && (buf[k] as number) < 0x80;
        j = k + lengthOf(after);
      }
      out.push(tokenKey(buf, i, j, ascii, ascii ? lower : foldWord, stats));
      i = j;
    } else if (cls === SCRIPT_RUN) {
      i = segmentRunAt(buf, i, e, true, true, Number.MAX_SAFE_INTEGER, sink, segmenter).end;
    } else {
      if (cls === INVALID) stats.invalidSequences++;
      i += lengthOf(here);
    }
  }
}

const lower = (text: string) => text.toLowerCase();
