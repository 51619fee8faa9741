/** Merging partial counts, ordering, top-K and the counts TSV: pure functions. */

export type WordCount = readonly [word: string, count: number];

/** Calls `fn` for each `word\tcount\n` line of `entries` (the last newline may be absent). */
export function forEachEntry(entries: string, fn: (word: string, count: number) => void): void {
  let pos = 0;
  const n = entries.length;
  while (pos < n) {
    let nl = entries.indexOf('\n', pos);
    if (nl < 0) nl = n;
    const tab = entries.lastIndexOf('\t', nl);
    if (tab < pos) throw new Error(`malformed partial entry: ${entries.slice(pos, nl)}`);
    fn(entries.slice(pos, tab), Number(entries.slice(tab + 1, nl)));
    pos = nl + 1;
  }
}

/** Adds `word\tcount\n` lines (a RangeCounts' entries) into `into`. */
export function mergeEntries(into: Map<string, number>, entries: string): void {
  forEachEntry(entries, (word, count) => {
    into.set(word, (into.get(word) ?? 0) + count);
  });
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
  return b[1] - a[1] || compareUtf8(a[0], b[0]);
}

/** All counts in output order. */
export function sortCounts(counts: Map<string, number>): WordCount[] {
  return Array.from(counts).sort(compareCounts);
}

/** The `k` most frequent words, in output order, without sorting everything. */
export function topCounts(counts: Map<string, number>, k: number): WordCount[] {
  if (k <= 0) return [];
  if (k > 64) return sortCounts(counts).slice(0, k);
  const top: WordCount[] = [];
  for (const entry of counts) {
    if (top.length === k) {
      if (compareCounts(entry, top[k - 1] as WordCount) >= 0) continue;
      top.pop();
    }
    let i = top.length;
    while (i > 0 && compareCounts(entry, top[i - 1] as WordCount) < 0) i--;
    top.splice(i, 0, entry);
  }
  return top;
}

/** The counts file, as string pieces of roughly `pieceChars` characters. */
export function* countsTsv(rows: readonly WordCount[], pieceChars = 1 << 16): Generator<string> {
  let piece = '';
  for (const [word, count] of rows) {
    piece += `${word}\t${count}\n`;
    if (piece.length >= pieceChars) {
      yield piece;
      piece = '';
    }
  }
  if (piece.length > 0) yield piece;
}
