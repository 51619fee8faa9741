/**
 * One of the kernel's hash tables, which live in the memory of a task's wasm instance
 * (lib/kernel/assembly/table.ts): open addressing keyed by byte strings, keys of up to
 * 8 bytes packed in their slot, longer ones in an arena. This side reads it out.
 */
import { type PartitionedLines, partitionLines } from '../reduce/partition.js';
import type { Kernel } from './wasm-kernel.js';

export class TokenTable {
  constructor(
    private readonly kernel: Kernel,
    private readonly ptr: number,
  ) {}

  /** Counts each run of `n` consecutive `tokens`, joined by one space. */
  addGrams(tokens: readonly string[], n: number): void {
    this.kernel.addGrams(this.ptr, tokens, n);
  }

  /** Counts one occurrence of each key of `keys` (joined by line feeds; a key holds none). */
  addTexts(keys: string): void {
    if (keys.length > 0) this.kernel.addTexts(this.ptr, keys);
  }

  /** Counts one occurrence of `key`, bytes as they are. */
  addKey(key: Uint8Array): void {
    this.kernel.addKey(this.ptr, key);
  }

  /** Distinct keys. */
  distinct(): number {
    return this.kernel.x.tableDistinct(this.ptr);
  }

  /** Sum of all counts. */
  total(): number {
    return this.kernel.x.tableTotal(this.ptr);
  }

  /** Bytes of wasm memory the table holds (slots and key arena). */
  heldBytes(): number {
    return this.kernel.x.tableBytes(this.ptr);
  }

  /** `key\tcount\n` for every key, as raw key bytes (not yet checked as UTF-8). */
  lines(): Uint8Array {
    return this.kernel.lines(this.ptr);
  }

  /** The lines of `lines()` grouped by the partition of their key (reduce/partition.ts). */
  partitionedLines(partitions: number): PartitionedLines {
    // Rare: counts past 2^31 - 1 of one word, as lines of their own.
    if (this.kernel.x.tableOverflowed(this.ptr)) return partitionLines(this.lines(), partitions);
    return this.kernel.partitioned(this.ptr, partitions);
  }
}

/** Tables up to this many slots (4 MiB) stay in the cache: there, short probes matter most. */
export const CACHED_SLOTS = 1 << 18;

/**
 * Keys a table of `capacity` slots holds before it doubles: half full while it fits the
 * cache, where a frequent word's probe should end in its first slot; three quarters
 * once it does not, where every key costs a cache miss and a smaller table misses less.
 * (The wasm table applies the same rule.)
 */
export function loadLimit(capacity: number): number {
  return capacity <= CACHED_SLOTS ? capacity / 2 : (capacity * 3) / 4;
}
