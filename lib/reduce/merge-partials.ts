/**
 * Adding up partial counts: the `key\tcount\n` lines that many map outputs hold for a
 * run of partitions, into one list of distinct keys. Partition by partition: a
 * partition's share of the vocabulary is small enough for a count table that stays in
 * the CPU cache, and its lines are read in order, so neither side costs a cache miss.
 */
import { CountTable } from './count-table.js';
import { EntryList } from './entry-list.js';
import { type SortedEntries, sortEntries } from './sort-entries.js';

export interface PartialRun {
  /** Bytes of partitions [from, to) of one map output. */
  bytes: Uint8Array;
  /** Partition from + j is bytes [offsets[j], offsets[j + 1]) of `bytes`. */
  offsets: readonly number[];
  /** Names the map output in errors. */
  name: string;
  /** Where `bytes` start in the map output, so errors give the object's own offsets. */
  base?: number;
}

/** A line of partial counts is rarely shorter than this (a short word, a tab, a count). */
const BYTES_PER_LINE = 8;

export interface MergedPartials {
  list: EntryList;
  /** Sum of every count. */
  tokens: number;
}

/** Merges the runs (all for the same partitions [from, to)). */
export function mergePartials(
  runs: readonly PartialRun[],
  from: number,
  to: number,
  /** Words come with their document counts (doc-keys.ts): joined here. */
  docFreq = false,
): MergedPartials {
  // Sized for the biggest single run of a partition: a word repeated in every map output
  // is one key however many runs hold it. Tables and lists grow when there are more.
  let biggestRun = 0;
  let expected = 0;
  for (let j = 0; j < to - from; j++) {
    let most = 0;
    for (const run of runs)
      most = Math.max(most, (run.offsets[j + 1] as number) - (run.offsets[j] as number));
    biggestRun = Math.max(biggestRun, most);
    expected += most;
  }
  const table = new CountTable(Math.ceil(biggestRun / BYTES_PER_LINE));
  const list = new EntryList(Math.ceil(expected / BYTES_PER_LINE));
  const views = runs.map(
    (r) => new DataView(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength),
  );
  let tokens = 0;
  for (let j = 0; j < to - from; j++) {
    table.reset();
    runs.forEach((run, i) => {
      const end = run.offsets[j + 1] as number;
      const what = `${run.name} (partition ${from + j})`;
      for (let pos = run.offsets[j] as number; pos < end; )
        pos = table.addLine(run.bytes, views[i] as DataView, pos, what, end, run.base);
    });
    tokens += table.total;
    list.appendTable(table, docFreq);
  }
  // Document counts are not words.
  return { list, tokens: tokens - list.docsTotal };
}

/** A table's keys in output order (with `docFreq`, words joined to their document counts). */
export function sortTable(table: CountTable, docFreq = false): SortedEntries {
  const list = new EntryList();
  list.appendTable(table, docFreq);
  return sortEntries(list);
}

/** Keys of `table` counted at least `minCount` times. */
export function keptOfTable(table: CountTable, minCount = 1): number {
  if (minCount <= 1) return table.size;
  let kept = 0;
  for (let i = 0; i < table.capacity; i++) {
    if (table.tagAt(i) !== 0 && table.countAt(i) >= minCount) kept++;
  }
  return kept;
}

/**
 * The `k` first keys of a table in output order, without sorting the rest: every key
 * whose count is at least the k-th largest count, sorted (ties at that count are then
 * ordered by their bytes, as in the full sort).
 */
export function topOfTable(table: CountTable, k: number): SortedEntries {
  const counts: number[] = [];
  for (let i = 0; i < table.capacity; i++) if (table.tagAt(i) !== 0) counts.push(table.countAt(i));
  if (counts.length <= k) return sortTable(table);
  const sorted = Float64Array.from(counts).sort();
  const threshold = k === 0 ? Number.POSITIVE_INFINITY : (sorted[sorted.length - k] as number);
  const top = new CountTable();
  const key = new Uint8Array(64);
  let buffer = key;
  for (let i = 0; i < table.capacity; i++) {
    if (table.tagAt(i) === 0 || table.countAt(i) < threshold) continue;
    const length = table.keyLength(i);
    if (length > buffer.length) buffer = new Uint8Array(length);
    table.writeKey(i, buffer, 0);
    top.add(buffer, new DataView(buffer.buffer), 0, length, table.countAt(i));
  }
  return sortTable(top);
}
