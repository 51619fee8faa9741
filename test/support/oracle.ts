/**
 * Independent reference implementations over decoded strings, and a fan-out driver
 * over the pure kernel. The kernel works on bytes; these work on JS strings the slow,
 * obvious way.
 */
import { countBytes, RangeCounter, readStartFor } from '../../lib/kernel/range-counter.js';
import { TaskCounts } from '../../lib/kernel/task-counts.js';
import {
  DEFAULT_SEGMENTER,
  isChineseChar,
  JIEBA_WINDOW_CHARS,
  jiebaRun,
  type SegmenterName,
} from '../../lib/segmenter.js';
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

/** Python's `Counter(data.decode('utf-8-sig', errors='replace').split())`. */
export function pythonSplitCounts(bytes: Uint8Array): Map<string, number> {
  const text = new TextDecoder('utf-8').decode(bytes); // strips one leading BOM, like utf-8-sig
  const counts = new Map<string, number>();
  let word = '';
  for (const ch of text) {
    if (isPythonWhitespace(ch.codePointAt(0) as number)) {
      if (word) counts.set(word, (counts.get(word) ?? 0) + 1);
      word = '';
    } else word += ch;
  }
  if (word) counts.set(word, (counts.get(word) ?? 0) + 1);
  return counts;
}

/** `words` mode over a decoded string, character by character. */
export function referenceWords(
  bytes: Uint8Array,
  segmenter: SegmenterName = DEFAULT_SEGMENTER,
): Map<string, number> {
  const chars = [...new TextDecoder('utf-8').decode(bytes)];
  const cls = chars.map((ch) => wordClass(ch.codePointAt(0) as number));
  const counts = new Map<string, number>();
  const add = (w: string) => {
    const key = foldWord(w);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  const addSegment = (w: string) => {
    const key = foldSegment(w);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  let i = 0;
  while (i < chars.length) {
    if (cls[i] === WORD) {
      let j = i + 1;
      for (;;) {
        if (cls[j] === WORD) j++;
        else if (cls[j] === JOINER && cls[j + 1] === WORD) j += 2;
        else break;
      }
      add(chars.slice(i, j).join(''));
      i = j;
    } else if (cls[i] === SCRIPT_RUN) {
      let j = i;
      while (cls[j] === SCRIPT_RUN) j++;
      // Windows from the run's start, the last word of each carried into the next, as
      // documented in segment-runs.ts: each window jieba's (JIEBA_WINDOW_CHARS) when
      // every character of the next JIEBA_WINDOW_CHARS (or to the run's end) is Chinese
      // under auto, else ICU's (SEGMENT_WINDOW_CHARS).
      let k = i;
      while (k < j) {
        let jieba = segmenter === 'jieba';
        if (segmenter === 'auto') {
          const ahead = chars.slice(k, Math.min(j, k + JIEBA_WINDOW_CHARS));
          jieba = ahead.every((ch) => isChineseChar(ch.codePointAt(0) as number));
        }
        const size = jieba ? JIEBA_WINDOW_CHARS : SEGMENT_WINDOW_CHARS;
        const complete = j - k < size;
        const text = chars.slice(k, Math.min(j, k + size)).join('');
        const { words, rest } = (jieba ? jiebaRun : segmentRun)(text, complete);
        for (const w of words) addSegment(w);
        k += [...text].length - [...rest].length;
      }
      i = j;
    } else i++;
  }
  return counts;
}

export interface FanOutResult {
  counts: Map<string, number>;
  tokens: number;
  invalidSequences: number;
  longTokens: number;
  bytesScanned: number;
}

/** Counts `bytes` range by range, feeding each counter pieces of `pieceSize` bytes. */
export function fanOut(
  mode: Mode,
  bytes: Uint8Array,
  chunkSize: number,
  pieceSize = 1 << 20,
  segmenter: SegmenterName = DEFAULT_SEGMENTER,
): FanOutResult {
  const result: FanOutResult = {
    counts: new Map(),
    tokens: 0,
    invalidSequences: 0,
    longTokens: 0,
    bytesScanned: 0,
  };
  for (let start = 0; start < bytes.length; start += chunkSize) {
    const end = Math.min(bytes.length, start + chunkSize);
    const counter = new RangeCounter(mode, start, end, new TaskCounts(end - start, 0, segmenter));
    let pos = readStartFor(start);
    while (!counter.done && pos < bytes.length) {
      const next = Math.min(bytes.length, pos + pieceSize);
      counter.feed(bytes.subarray(pos, next));
      pos = next;
    }
    const partial = counter.finish();
    mergeEntries(result.counts, partial.entries);
    result.tokens += partial.tokens;
    result.invalidSequences += partial.invalidSequences;
    result.longTokens += partial.longTokens;
    result.bytesScanned += partial.bytesScanned;
  }
  return result;
}

/** Replacement characters a decoder emits for ill-formed input. */
export function invalidSequencesIn(bytes: Uint8Array): number {
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
  const literal = new TextDecoder('utf-8', { ignoreBOM: true }).decode(
    new Uint8Array([0xef, 0xbf, 0xbd]),
  );
  let replaced = 0;
  for (const ch of text) if (ch === literal) replaced++;
  // Literal U+FFFD in the input is not an error.
  let literals = 0;
  for (let i = 0; i + 2 < bytes.length; i++) {
    if (bytes[i] === 0xef && bytes[i + 1] === 0xbf && bytes[i + 2] === 0xbd) literals++;
  }
  return replaced - literals;
}

export function sortedEntries(counts: Map<string, number>): [string, number][] {
  return [...counts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Adds `word\tcount\n` lines into `into`, the obvious way. */
export function mergeEntries(into: Map<string, number>, entries: string): void {
  for (const line of entries.split('\n')) {
    if (line === '') continue;
    const tab = line.lastIndexOf('\t');
    if (tab < 1) throw new Error(`malformed entry: ${line}`);
    const word = line.slice(0, tab);
    into.set(word, (into.get(word) ?? 0) + Number(line.slice(tab + 1)));
  }
}

/** The counts file of `counts`, sorted by count, then by UTF-8 bytes (compared as buffers). */
export function countsTsvOf(
  counts: ReadonlyMap<string, number>,
  /** With --doc-freq: each word's documents, the third column. */
  docs?: ReadonlyMap<string, number>,
): string {
  const rows = [...counts].map(([word, count]) => ({ word, count, bytes: Buffer.from(word) }));
  rows.sort((a, b) => b.count - a.count || Buffer.compare(a.bytes, b.bytes));
  const third = (word: string) => (docs ? `\t${docs.get(word)}` : '');
  return rows.map((r) => `${r.word}\t${r.count}${third(r.word)}\n`).join('');
}

/** The single-pass counts of `bytes`. */
export function singlePassCounts(mode: Mode, bytes: Uint8Array): Map<string, number> {
  const counts = new Map<string, number>();
  mergeEntries(counts, countBytes(mode, bytes).entries);
  return counts;
}

/** The counts file a single pass over `bytes` gives. */
export function expectedTsv(mode: Mode, bytes: Uint8Array): string {
  return countsTsvOf(singlePassCounts(mode, bytes));
}
