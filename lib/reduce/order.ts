/** The order of every output (count descending, then UTF-8 bytes) and top-K lists. */
import { MalformedPartialError } from '../errors.js';

export interface WordCount {
  word: string;
  count: number;
  /** With --doc-freq: the documents the word occurs in. */
  docs?: number;
}

function codeUnitRank(u: number): number {
  // UTF-16 order differs from code point (= UTF-8 byte) order only between surrogates
  // (characters above U+FFFF) and U+E000-U+FFFF: move surrogates above them.
  if (u >= 0xd800 && u <= 0xdfff) return u + 0x2000;
  if (u >= 0xe000) return u - 0x800;
  return u;
}

/** Orders strings by their UTF-8 bytes. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codeUnitRank(x) - codeUnitRank(y);
  }
  return a.length - b.length;
}

/** Count descending, then the word's UTF-8 bytes ascending: the order of every output. */
export function compareCounts(a: WordCount, b: WordCount): number {
  return b.count - a.count || compareUtf8(a.word, b.word);
}

/** The first `k` of several lists in output order whose words are disjoint (partitions). */
export function mergeTop(lists: readonly (readonly WordCount[])[], k: number): WordCount[] {
  return lists.flat().sort(compareCounts).slice(0, k);
}

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Calls `fn` for each `word\tcount\n` (or `word\tcount\tdocs\n`) line of UTF-8
 * `lines` (the last newline may be absent); `what` names them in the error a line
 * without a tab raises. A word holds no tab: the first tab ends it.
 */
export function forEachLine(
  lines: Uint8Array,
  fn: (word: string, count: number, docs?: number) => void,
  what = 'counts',
): void {
  let pos = 0;
  while (pos < lines.length) {
    let nl = lines.indexOf(10, pos);
    if (nl < 0) nl = lines.length;
    const tab = lines.indexOf(9, pos);
    if (tab < 0 || tab >= nl) {
      throw new MalformedPartialError(
        `${what}: malformed line: ${decoder.decode(lines.subarray(pos, nl))}`,
      );
    }
    let second = lines.indexOf(9, tab + 1);
    if (second < 0 || second >= nl) second = nl;
    const docs = second < nl ? Number(decoder.decode(lines.subarray(second + 1, nl))) : undefined;
    fn(
      decoder.decode(lines.subarray(pos, tab)),
      Number(decoder.decode(lines.subarray(tab + 1, second))),
      docs,
    );
    pos = nl + 1;
  }
}

/** The words and counts (and documents) of sorted lines, in order. */
export function topOf(pieces: Iterable<Uint8Array>): WordCount[] {
  const top: WordCount[] = [];
  for (const piece of pieces)
    forEachLine(piece, (word, count, docs) =>
      top.push(docs === undefined ? { word, count } : { word, count, docs }),
    );
  return top;
}
