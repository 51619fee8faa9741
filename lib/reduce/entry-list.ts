/**
 * Distinct keys and their counts in compact arrays, ready to sort: what count tables
 * are emptied into. Keys of up to 8 bytes without a NUL byte (nearly every word) are
 * "fast" keys, kept as their big-endian 64-bit value (two u32: low word first, as a
 * BigUint64Array sees them); the rest are "general" keys, kept as bytes.
 */
import { MalformedPartialError } from '../errors.js';
import { LONG_KEY } from '../key-hash.js';
import type { CountTable } from './count-table.js';
import { DOC_MARK } from './doc-keys.js';

const MASKS = [0, 0xff, 0xffff, 0xffffff] as const;

function hasZeroByte(w: number): boolean {
  return ((w - 0x01010101) & ~w & 0x80808080) !== 0;
}

function bswap(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

export class EntryList {
  /** Fast keys: entry i is fast[2i] (bytes 4-7) and fast[2i + 1] (bytes 0-3), big-endian. */
  fast: Uint32Array;
  fastCounts: Float64Array;
  nFast = 0;
  /** General keys: entry i is arena[generalOffsets[i], + generalLengths[i]). */
  arena = new Uint8Array(1 << 16);
  arenaUsed = 0;
  generalOffsets = new Int32Array(1024);
  generalLengths = new Int32Array(1024);
  generalCounts = new Float64Array(1024);
  nGeneral = 0;
  /**
   * With document frequency (appendTable's `docFreq`): each general entry's documents.
   * Every key is then general, so the sort keeps entry numbers the docs follow.
   */
  generalDocs: Float64Array | undefined;
  /** Sum of the document counts joined to their words. */
  docsTotal = 0;

  /** Room for `expected` fast keys before the arrays grow. */
  constructor(expected = 1024) {
    this.fast = new Uint32Array(2 * Math.max(16, expected));
    this.fastCounts = new Float64Array(Math.max(16, expected));
  }

  get size(): number {
    return this.nFast + this.nGeneral;
  }

  /**
   * Appends every key of `table` (which is left as it was). With `docFreq`, a word's
   * document count (a key marked by doc-keys.ts, in the same table) is joined to it,
   * and not listed itself.
   */
  appendTable(table: CountTable, docFreq = false): void {
    if (docFreq) {
      this.appendWithDocs(table);
      return;
    }
    const slots = table.slots;
    const capacity = table.capacity;
    this.reserveFast(this.nFast + table.size);
    for (let i = 0; i < capacity; i++) {
      const o = i << 2;
      const tag = slots[o] as number;
      if (tag === 0) continue;
      const len = tag & 15;
      const count = table.countAt(i);
      if (len !== LONG_KEY) {
        const w0 = slots[o + 1] as number;
        const w1 = slots[o + 2] as number;
        // Unused bytes set to 0xff, so that only a NUL inside the key counts.
        const m0 = len >= 4 ? w0 : w0 | ~MASKS[len as 1 | 2 | 3];
        const m1 = len >= 8 ? w1 : len <= 4 ? -1 : w1 | ~MASKS[(len - 4) as 1 | 2 | 3];
        if (!hasZeroByte(m0) && !hasZeroByte(m1)) {
          const n = this.nFast++;
          this.fast[2 * n] = bswap(w1);
          this.fast[2 * n + 1] = bswap(w0);
          this.fastCounts[n] = count;
          continue;
        }
      }
      this.appendGeneral(table, i, count);
    }
  }

  /** Appends the key in slot `i` of `table` as a general entry; returns its number. */
  private appendGeneral(table: CountTable, i: number, count: number): number {
    const keyLength = table.keyLength(i);
    this.reserveGeneral(keyLength);
    const n = this.nGeneral++;
    this.generalOffsets[n] = this.arenaUsed;
    this.generalLengths[n] = keyLength;
    this.generalCounts[n] = count;
    this.arenaUsed = table.writeKey(i, this.arena, this.arenaUsed);
    return n;
  }

  private appendWithDocs(table: CountTable): void {
    this.generalDocs ??= new Float64Array(this.generalCounts.length);
    let marked = new Uint8Array(256);
    for (let i = 0; i < table.capacity; i++) {
      if (table.tagAt(i) === 0 || table.keyByte(i, 0) === DOC_MARK) continue;
      const keyLength = table.keyLength(i);
      if (keyLength + 1 > marked.length) marked = new Uint8Array(2 * keyLength + 1);
      marked[0] = DOC_MARK;
      table.writeKey(i, marked, 1);
      const docs = table.countOf(marked, 0, keyLength + 1);
      if (docs === 0) {
        const word = new TextDecoder().decode(marked.subarray(1, keyLength + 1));
        throw new MalformedPartialError(`no document count for '${word}' in the partials`);
      }
      // Grown with the general arrays (reserveGeneral), so read after the append.
      const n = this.appendGeneral(table, i, table.countAt(i));
      (this.generalDocs as Float64Array)[n] = docs;
      this.docsTotal += docs;
    }
  }

  private reserveFast(n: number): void {
    if (n <= this.fastCounts.length) return;
    let capacity = this.fastCounts.length;
    while (capacity < n) capacity *= 2;
    const fast = new Uint32Array(2 * capacity);
    fast.set(this.fast.subarray(0, 2 * this.nFast));
    const counts = new Float64Array(capacity);
    counts.set(this.fastCounts.subarray(0, this.nFast));
    this.fast = fast;
    this.fastCounts = counts;
  }

  private reserveGeneral(keyLength: number): void {
    if (this.arenaUsed + keyLength > this.arena.length) {
      const arena = new Uint8Array(Math.max(this.arena.length * 2, this.arenaUsed + keyLength));
      arena.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = arena;
    }
    if (this.nGeneral < this.generalCounts.length) return;
    const capacity = this.generalCounts.length * 2;
    const grow = <T extends Int32Array | Float64Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    this.generalOffsets = grow(this.generalOffsets, (n) => new Int32Array(n));
    this.generalLengths = grow(this.generalLengths, (n) => new Int32Array(n));
    this.generalCounts = grow(this.generalCounts, (n) => new Float64Array(n));
    if (this.generalDocs) this.generalDocs = grow(this.generalDocs, (n) => new Float64Array(n));
  }
}
