/**
 * The kernel's hash table: open addressing, keyed by byte strings, on the hot path of
 * every token. Most words are at most 8 bytes, so a lookup usually compares three
 * integers in one cache line and touches nothing else.
 *
 * A slot is 4 ints (16 bytes, four to a cache line): tag, a, b, count.
 * tag = hash bits above the low 4, which hold the key length (1-8) or LONG_KEY.
 * Keys of up to 8 bytes live packed in a and b; longer keys are in the arena at
 * offset a with length b.
 */
import { FNV_OFFSET, FNV_PRIME, LONG_KEY, longTag, partitionOfTag, shortTag } from '../key-hash.js';
import { offsetsOf, type PartitionedLines, partitionLines } from '../reduce/partition.js';
import { ASCII_LOWER } from '../tokenize.js';

const SLOT = 4;
/** A slot's count stops here; the rest of that key's count goes to `overflow` lines. */
const MAX_SLOT_COUNT = 0x7fffffff;
const BYTE_MASKS = new Int32Array([0, 0xff, 0xffff, 0xffffff, -1]);

/** buf[s..e) (at most 4 bytes) as a little-endian int, ASCII-lowered with `lower`. */
function pack(buf: Uint8Array, s: number, e: number, lower: boolean): number {
  let w = 0;
  for (let k = s; k < e; k++) {
    const b = buf[k] as number;
    w |= (lower ? (ASCII_LOWER[b] as number) : b) << (8 * (k - s));
  }
  return w;
}

/** Writes the `count` low bytes of w, least significant first. */
function unpack(w: number, count: number, out: Uint8Array, o: number): number {
  for (let k = 0; k < count; k++) out[o++] = (w >>> (8 * k)) & 0xff;
  return o;
}

export class TokenTable {
  private slots: Int32Array;
  private mask: number;
  private size = 0;
  /** Keys the table holds before it grows: see loadLimit. */
  private limit: number;
  private arena = new Uint8Array(1 << 16);
  private arenaUsed = 0;
  /** Keys whose count filled a slot (2^31 - 1 of one word: only a gzip task sees that). */
  private overflow: Uint8Array[] = [];

  constructor(capacity = 1 << 14) {
    this.slots = new Int32Array(capacity * SLOT);
    this.mask = capacity - 1;
    this.limit = loadLimit(capacity);
  }

  /**
   * Counts one occurrence of buf[s..e); `view` is a DataView over `buf`. With `lower`
   * (words mode, where a table key holds only [A-Za-z0-9'-]) setting bit 0x20 of each
   * byte is exactly ASCII lower-casing.
   */
  add(buf: Uint8Array, view: DataView, s: number, e: number, lower: boolean): void {
    const len = e - s;
    if (len > 8) {
      this.addLong(buf, s, e, lower);
      return;
    }
    let w0: number;
    let w1 = 0;
    if (s + 8 <= buf.length) {
      // Little-endian words masked to the token's bytes: two loads instead of a loop.
      const fold = lower ? 0x20202020 : 0;
      if (len <= 4) w0 = (view.getInt32(s, true) | fold) & (BYTE_MASKS[len] as number);
      else {
        w0 = view.getInt32(s, true) | fold;
        w1 = (view.getInt32(s + 4, true) | fold) & (BYTE_MASKS[len - 4] as number);
      }
    } else {
      w0 = pack(buf, s, Math.min(e, s + 4), lower);
      w1 = pack(buf, s + 4, e, lower);
    }
    const h = shortTag(w0, w1, len);
    const slots = this.slots;
    const mask = this.mask;
    let idx = ((h >>> 4) & mask) << 2;
    for (;;) {
      const tag = slots[idx] as number;
      if (tag === h && slots[idx + 1] === w0 && slots[idx + 2] === w1) {
        this.bump(idx);
        return;
      }
      if (tag === 0) break;
      idx = (idx + SLOT) & ((mask << 2) | 3);
    }
    slots[idx] = h;
    slots[idx + 1] = w0;
    slots[idx + 2] = w1;
    slots[idx + 3] = 1;
    if (++this.size > this.limit) this.rehash();
  }

  private bump(idx: number): void {
    const c = (this.slots[idx + 3] as number) + 1;
    if (c < MAX_SLOT_COUNT) this.slots[idx + 3] = c;
    else {
      // Emit a full slot's worth as a line of its own; the merge adds the lines up.
      this.slots[idx + 3] = 0;
      this.overflow.push(this.line(idx, c));
    }
  }

  private addLong(buf: Uint8Array, s: number, e: number, lower: boolean): void {
    const len = e - s;
    let h = FNV_OFFSET;
    if (lower)
      for (let k = s; k < e; k++)
        h = Math.imul(h ^ (ASCII_LOWER[buf[k] as number] as number), FNV_PRIME);
    else for (let k = s; k < e; k++) h = Math.imul(h ^ (buf[k] as number), FNV_PRIME);
    h = longTag(h);
    const slots = this.slots;
    const mask = this.mask;
    let idx = ((h >>> 4) & mask) << 2;
    for (;;) {
      const tag = slots[idx] as number;
      if (tag === 0) break;
      if (
        tag === h &&
        slots[idx + 2] === len &&
        this.sameKey(slots[idx + 1] as number, buf, s, len, lower)
      ) {
        this.bump(idx);
        return;
      }
      idx = (idx + SLOT) & ((mask << 2) | 3);
    }
    slots[idx] = h;
    slots[idx + 1] = this.store(buf, s, e, lower);
    slots[idx + 2] = len;
    slots[idx + 3] = 1;
    if (++this.size > this.limit) this.rehash();
  }

  /** `key\tcount\n` for every key, as raw key bytes (not yet checked as UTF-8). */
  lines(): Uint8Array {
    const slots = this.slots;
    let bytes = 0;
    for (const line of this.overflow) bytes += line.length;
    for (let i = 0; i < slots.length; i += SLOT) {
      const tag = slots[i] as number;
      if (tag !== 0 && slots[i + 3] !== 0)
        bytes += ((tag & 15) === LONG_KEY ? (slots[i + 2] as number) : 8) + 12;
    }
    const out = new Uint8Array(bytes);
    let o = 0;
    for (const line of this.overflow) {
      out.set(line, o);
      o += line.length;
    }
    for (let i = 0; i < slots.length; i += SLOT) {
      if (slots[i] === 0 || slots[i + 3] === 0) continue;
      o = this.writeLine(i, slots[i + 3] as number, out, o);
    }
    return out.subarray(0, o);
  }

  /** Distinct keys. */
  distinct(): number {
    return this.size;
  }

  /**
   * The lines of `lines()` grouped by the partition of their key (see
   * reduce/partition.ts), written straight from the slots in two passes.
   */
  partitionedLines(partitions: number): PartitionedLines {
    const slots = this.slots;
    const capacity = slots.length / SLOT;
    const partOf = new Uint16Array(capacity);
    const sizes = new Float64Array(partitions);
    for (let i = 0; i < capacity; i++) {
      const idx = i << 2;
      const tag = slots[idx] as number;
      const count = slots[idx + 3] as number;
      if (tag === 0 || count === 0) continue;
      const len = tag & 15;
      const keyLen = len === LONG_KEY ? (slots[idx + 2] as number) : len;
      // The tag is the key's hash: no byte of the key is read again.
      const p = partitionOfTag(tag, partitions);
      partOf[i] = p;
      sizes[p] = (sizes[p] as number) + keyLen + 2 + decimalDigits(count);
    }
    const offsets = offsetsOf(sizes);
    const cursor = offsets.slice();
    const bytes = new Uint8Array(offsets[partitions] as number);
    for (let i = 0; i < capacity; i++) {
      const idx = i << 2;
      if (slots[idx] === 0 || slots[idx + 3] === 0) continue;
      const p = partOf[i] as number;
      cursor[p] = this.writeLine(idx, slots[idx + 3] as number, bytes, cursor[p] as number);
    }
    if (this.overflow.length === 0) return { bytes, offsets };
    // Rare: counts past 2^31 - 1 of one word, as lines of their own.
    let extra = 0;
    for (const line of this.overflow) extra += line.length;
    const all = new Uint8Array(bytes.length + extra);
    all.set(bytes);
    let o = bytes.length;
    for (const line of this.overflow) {
      all.set(line, o);
      o += line.length;
    }
    return partitionLines(all, partitions);
  }

  /** Sum of all counts. */
  total(): number {
    let total = this.overflow.length * MAX_SLOT_COUNT;
    for (let i = 3; i < this.slots.length; i += SLOT) total += this.slots[i] as number;
    return total;
  }

  private line(idx: number, count: number): Uint8Array {
    const out = new Uint8Array(TOKEN_LINE_MAX + this.keyLength(idx));
    return out.subarray(0, this.writeLine(idx, count, out, 0));
  }

  private keyLength(idx: number): number {
    const len = (this.slots[idx] as number) & 15;
    return len === LONG_KEY ? (this.slots[idx + 2] as number) : len;
  }

  private writeLine(idx: number, count: number, out: Uint8Array, o: number): number {
    const slots = this.slots;
    const len = (slots[idx] as number) & 15;
    if (len === LONG_KEY) {
      const off = slots[idx + 1] as number;
      const longLen = slots[idx + 2] as number;
      out.set(this.arena.subarray(off, off + longLen), o);
      o += longLen;
    } else {
      o = unpack(slots[idx + 1] as number, Math.min(len, 4), out, o);
      o = unpack(slots[idx + 2] as number, Math.max(0, len - 4), out, o);
    }
    out[o++] = 9;
    const digits = decimalDigits(count);
    for (let k = o + digits - 1, v = count; k >= o; k--, v = (v / 10) | 0) out[k] = 48 + (v % 10);
    o += digits;
    out[o++] = 10;
    return o;
  }

  private sameKey(off: number, buf: Uint8Array, s: number, len: number, lower: boolean): boolean {
    const arena = this.arena;
    let k = 0;
    if (lower) while (k < len && arena[off + k] === ASCII_LOWER[buf[s + k] as number]) k++;
    else while (k < len && arena[off + k] === buf[s + k]) k++;
    return k === len;
  }

  private store(buf: Uint8Array, s: number, e: number, lower: boolean): number {
    const len = e - s;
    if (this.arenaUsed + len > this.arena.length) {
      const next = new Uint8Array(Math.max(this.arena.length * 2, this.arenaUsed + len));
      next.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = next;
    }
    const off = this.arenaUsed;
    const arena = this.arena;
    if (lower)
      for (let k = 0; k < len; k++) arena[off + k] = ASCII_LOWER[buf[s + k] as number] as number;
    else arena.set(buf.subarray(s, e), off);
    this.arenaUsed += len;
    return off;
  }

  private rehash(): void {
    const old = this.slots;
    const capacity = (this.mask + 1) * 2;
    const slots = new Int32Array(capacity * SLOT);
    const mask = capacity - 1;
    for (let i = 0; i < old.length; i += SLOT) {
      const tag = old[i] as number;
      if (tag === 0) continue;
      let idx = ((tag >>> 4) & mask) << 2;
      while (slots[idx] !== 0) idx = (idx + SLOT) & ((mask << 2) | 3);
      slots[idx] = tag;
      slots[idx + 1] = old[i + 1] as number;
      slots[idx + 2] = old[i + 2] as number;
      slots[idx + 3] = old[i + 3] as number;
    }
    this.slots = slots;
    this.mask = mask;
    this.limit = loadLimit(capacity);
  }
}

/** Tables up to this many slots (4 MiB) stay in the cache: there, short probes matter most. */
export const CACHED_SLOTS = 1 << 18;

/**
 * Keys a table of `capacity` slots holds before it doubles: half full while it fits the
 * cache, where a frequent word's probe should end in its first slot; three quarters
 * once it does not, where every key costs a cache miss and a smaller table misses less.
 */
export function loadLimit(capacity: number): number {
  return capacity <= CACHED_SLOTS ? capacity / 2 : (capacity * 3) / 4;
}

/** Decimal digits of a count (a positive 31-bit integer). */
function decimalDigits(n: number): number {
  let digits = 1;
  for (let v = n; v >= 10; v = (v / 10) | 0) digits++;
  return digits;
}

/** Bytes of a line beyond its key: a tab, at most 10 digits, a newline. */
const TOKEN_LINE_MAX = 12;
