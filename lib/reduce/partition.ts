/**
 * The shuffle's partitioner (Hadoop's HashPartitioner): a word's partition is a hash
 * of its UTF-8 bytes, so partition p of every map output holds the same words, and
 * the reduce tasks that merge disjoint sets of partitions never meet the same word.
 */
import { keyTag, partitionOfTag } from '../key-hash.js';
import { KiB, MiB } from '../sizes.js';
import { isDocKey } from './doc-keys.js';

/** Fewest and most hash partitions per job. */
export const MIN_PARTITIONS = 16;
export const MAX_PARTITIONS = 1024;
/**
 * One partition per this many bytes of input, between the bounds above: even a
 * vocabulary of one new word per 12 bytes then leaves a partition about 20,000 words,
 * which a reduce task merges in a table that stays in the CPU cache.
 */
export const BYTES_PER_PARTITION = 256 * KiB;
/** A reduce task merges about this many bytes of map output, at most... */
export const REDUCE_TARGET_BYTES = 64 * MiB;
/** ...and, when the fan-out has room, at least this many. */
export const REDUCE_MIN_BYTES = 4 * MiB;

/** The number of hash partitions P for a job over `bytes` of input. */
export function choosePartitions(bytes: number): number {
  let p = MIN_PARTITIONS;
  while (p < MAX_PARTITIONS && p * BYTES_PER_PARTITION < bytes) p *= 2;
  return p;
}

/**
 * The partition of the key `buf[s..e)` among `partitions`; a word's document count
 * (doc-keys.ts) is hashed without its mark, so it goes to its word's partition.
 */
export function partitionOf(buf: Uint8Array, s: number, e: number, partitions: number): number {
  const from = e - s > 1 && isDocKey(buf, s) ? s + 1 : s;
  return partitionOfTag(keyTag(buf, from, e), partitions);
}

export interface PartitionedLines {
  /** The lines, grouped by partition in partition order. */
  bytes: Uint8Array;
  /** Partition p is bytes[offsets[p], offsets[p + 1]); `partitions + 1` entries. */
  offsets: number[];
}

/** Groups `key\tcount\n` lines by the partition of their key. */
export function partitionLines(lines: Uint8Array, partitions: number): PartitionedLines {
  const n = lines.length;
  // Pass 1: each line's partition and the partitions' sizes.
  let count = 0;
  for (let k = 0; k < n; k++) if (lines[k] === 10) count++;
  const partOf = new Uint16Array(count);
  const sizes = new Float64Array(partitions);
  let pos = 0;
  for (let i = 0; i < count; i++) {
    let tab = pos;
    while (lines[tab] !== 9 && lines[tab] !== 10) tab++;
    let k = tab;
    while (lines[k] !== 10) k++;
    const p = partitionOf(lines, pos, tab, partitions);
    partOf[i] = p;
    sizes[p] = (sizes[p] as number) + (k + 1 - pos);
    pos = k + 1;
  }
  const offsets = offsetsOf(sizes);
  const cursor = offsets.slice();
  const bytes = new Uint8Array(pos);
  // Pass 2: each line to its partition's cursor.
  pos = 0;
  for (let i = 0; i < count; i++) {
    const p = partOf[i] as number;
    let at = cursor[p] as number;
    let k = pos;
    for (; lines[k] !== 10; k++) bytes[at++] = lines[k] as number;
    bytes[at++] = 10;
    cursor[p] = at;
    pos = k + 1;
  }
  return { bytes, offsets };
}

/** Offsets of partitions with `sizes` bytes laid end to end: `sizes.length + 1` entries. */
export function offsetsOf(sizes: ArrayLike<number>): number[] {
  const offsets = new Array<number>(sizes.length + 1);
  offsets[0] = 0;
  for (let p = 0; p < sizes.length; p++)
    offsets[p + 1] = (offsets[p] as number) + (sizes[p] as number);
  return offsets;
}

/** Partition p of the result is partition p of `a` followed by partition p of `b`. */
export function interleavePartitions(a: PartitionedLines, b: PartitionedLines): PartitionedLines {
  const partitions = a.offsets.length - 1;
  const bytes = new Uint8Array(a.bytes.length + b.bytes.length);
  const offsets = [0];
  let o = 0;
  for (let p = 0; p < partitions; p++) {
    for (const part of [a, b]) {
      const from = part.offsets[p] as number;
      const to = part.offsets[p + 1] as number;
      bytes.set(part.bytes.subarray(from, to), o);
      o += to - from;
    }
    offsets.push(o);
  }
  return { bytes, offsets };
}

/**
 * How many reduce tasks merge `totalBytes` of map output split in `partitions`: about
 * REDUCE_TARGET_BYTES each, but as many as `parallelism` when each would still get
 * REDUCE_MIN_BYTES, and never more than there are partitions.
 */
export function chooseReduceTasks(
  totalBytes: number,
  partitions: number,
  parallelism: number,
): number {
  const bySize = Math.ceil(totalBytes / REDUCE_TARGET_BYTES);
  const byFanOut = Math.min(parallelism, Math.ceil(totalBytes / REDUCE_MIN_BYTES));
  let tasks = Math.max(bySize, byFanOut);
  // More tasks than run at once: whole waves, so no wave ends with one task and idle slots.
  if (tasks > parallelism) tasks = Math.ceil(tasks / parallelism) * parallelism;
  return Math.max(1, Math.min(partitions, tasks));
}

/**
 * Cuts partitions 0..P-1 (with `sizes[p]` bytes each) into at most `groups` runs of
 * consecutive partitions holding about equal bytes; returns [from, to) pairs, none
 * empty of partitions.
 */
export function groupPartitions(sizes: readonly number[], groups: number): [number, number][] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const result: [number, number][] = [];
  let from = 0;
  let acc = 0;
  for (let p = 0; p < sizes.length; p++) {
    acc += sizes[p] as number;
    const cut = (total * (result.length + 1)) / groups;
    const left = sizes.length - p - 1;
    if ((acc >= cut && left > 0 && result.length < groups - 1) || left === 0) {
      result.push([from, p + 1]);
      from = p + 1;
    }
  }
  return result;
}
