/**
 * Counts keyed by byte strings: where partials (`key\tcount\n` lines) are added up.
 * Keys live in typed arrays, not a JS Map, so a table holds any number of distinct
 * keys (V8's Map stops at 2^24 entries), and counts never wrap: a count that outgrows
 * its 32-bit slot moves to a side map of doubles, exact to 2^53.
 *
 * A slot is four ints: tag, a, b, count. tag = hash bits above the low 4, which hold
 * the key length (1-8) or LONG_KEY. Keys of up to 8 bytes live packed little-endian in
 * a and b; longer keys are in the arena at offset a with length b.
 */
import { MalformedPartialError } from '../errors.js';
import { FNV_OFFSET, FNV_PRIME, keyTag, LONG_KEY, longTag, shortTag } from '../key-hash.js';

const SLOT = 4;
const BIG = -1;
const MAX_SLOT_COUNT = 0x7fffffff;
const BYTE_MASKS = [0, 0xff, 0xffff, 0xffffff, -1] as const;
const TAB = 9;
const NEWLINE = 10;

/** The bytes of `buf[s..e)` (at most 4) as a little-endian int. */
function pack(buf: Uint8Array, s: number, e: number): number {
  let w = 0;
  for (let k = s; k < e; k++) w |= (buf[k] as number) << (8 * (k - s));
  return w;
}

export class CountTable {
  /** Distinct keys. */
  size = 0;
  /** Sum of all counts added. */
  total = 0;
  /** @internal read by the sort */
  slots: Int32Array;
  /** @internal */
  arena = new Uint8Array(1 << 16);
  private mask: number;
  private arenaUsed = 0;
  private big = new Map<number, number>();

  /** `expected` distinct keys fit without growing. */
  constructor(expected = 1 << 11) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.slots = new Int32Array(capacity * SLOT);
    this.mask = capacity - 1;
  }

  /** Empties the table, keeping its capacity. */
  reset(): void {
    this.slots.fill(0);
    this.big.clear();
    this.size = 0;
    this.total = 0;
    this.arenaUsed = 0;
  }

  /** Slots (occupied or not); slot i is occupied when `tagAt(i) !== 0`. */
  get capacity(): number {
    return this.mask + 1;
  }

  /** Adds `n` to the count of the key `buf[s..e)`; `view` is a DataView over `buf`. */
  add(buf: Uint8Array, view: DataView, s: number, e: number, n: number): void {
    const len = e - s;
    this.total += n;
    if (len > 8) {
      this.addLong(buf, s, e, n);
      return;
    }
    let w0: number;
    let w1 = 0;
    if (s + 8 <= buf.length) {
      if (len <= 4) w0 = view.getInt32(s, true) & (BYTE_MASKS[len] as number);
      else {
        w0 = view.getInt32(s, true);
        w1 = view.getInt32(s + 4, true) & (BYTE_MASKS[len - 4] as number);
      }
    } else {
      w0 = pack(buf, s, Math.min(e, s + 4));
      w1 = pack(buf, s + 4, e);
    }
    const h = shortTag(w0, w1, len);
    const slots = this.slots;
    const mask = this.mask;
    let o = ((h >>> 4) & mask) << 2;
    for (;;) {
      const tag = slots[o] as number;
      if (tag === 0) {
        slots[o] = h;
        slots[o + 1] = w0;
        slots[o + 2] = w1;
        this.setNew(o, n);
        return;
      }
      if (tag === h && slots[o + 1] === w0 && slots[o + 2] === w1) {
        this.bump(o, n);
        return;
      }
      o = (o + SLOT) & ((mask << 2) | 3);
    }
  }

  private addLong(buf: Uint8Array, s: number, e: number, n: number): void {
    const len = e - s;
    let h = FNV_OFFSET;
    for (let k = s; k < e; k++) h = Math.imul(h ^ (buf[k] as number), FNV_PRIME);
    h = longTag(h);
    const slots = this.slots;
    const mask = this.mask;
    let o = ((h >>> 4) & mask) << 2;
    for (;;) {
      const tag = slots[o] as number;
      if (tag === 0) {
        slots[o] = h;
        slots[o + 1] = this.store(buf, s, e);
        slots[o + 2] = len;
        this.setNew(o, n);
        return;
      }
      if (tag === h && slots[o + 2] === len && this.sameKey(slots[o + 1] as number, buf, s, len)) {
        this.bump(o, n);
        return;
      }
      o = (o + SLOT) & ((mask << 2) | 3);
    }
  }

  private setNew(o: number, n: number): void {
    if (n <= MAX_SLOT_COUNT) this.slots[o + 3] = n;
    else {
      this.slots[o + 3] = BIG;
      this.big.set(o >> 2, n);
    }
    if (++this.size * 2 > this.mask + 1) this.grow();
  }

  private bump(o: number, n: number): void {
    const c = this.slots[o + 3] as number;
    if (c !== BIG && c + n <= MAX_SLOT_COUNT) this.slots[o + 3] = c + n;
    else {
      this.big.set(o >> 2, this.countAt(o >> 2) + n);
      this.slots[o + 3] = BIG;
    }
  }

  /**
   * Adds every `key\tcount\n` line of `buf`. `what` names the partial in the error a
   * malformed line raises (an empty key, a count that is not a positive integer, a
   * missing tab or final newline).
   */
  addLines(buf: Uint8Array, what: string): void {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let pos = 0; pos < buf.length; ) pos = this.addLine(buf, view, pos, what);
  }

  /**
   * Adds the line at `pos` (see addLines), which ends before `n`; returns where the next
   * starts. `base` is where `buf` starts in the partial `what`, for the error's offset.
   */
  addLine(
    buf: Uint8Array,
    view: DataView,
    pos: number,
    what: string,
    n = buf.length,
    base = 0,
  ): number {
    let tab = pos;
    while (tab < n && buf[tab] !== TAB) tab++;
    if (tab === pos || tab === n)
      throw malformed(what, base + pos, tab === n ? 'no tab' : 'an empty key');
    let count = 0;
    let j = tab + 1;
    for (; j < n; j++) {
      const d = (buf[j] as number) - 48;
      if (d < 0 || d > 9) break;
      count = count * 10 + d;
    }
    if (j >= n || buf[j] !== NEWLINE || j === tab + 1 || count === 0) {
      throw malformed(
        what,
        base + pos,
        'a count that is not a positive integer followed by a newline',
      );
    }
    this.add(buf, view, pos, tab, count);
    return j + 1;
  }

  /** The count of the key `buf[s..e)`; 0 when the table does not hold it. */
  countOf(buf: Uint8Array, s: number, e: number): number {
    const len = e - s;
    const h = keyTag(buf, s, e);
    const slots = this.slots;
    const mask = this.mask;
    let o = ((h >>> 4) & mask) << 2;
    const w0 = len <= 8 ? pack(buf, s, Math.min(e, s + 4)) : 0;
    const w1 = len > 4 && len <= 8 ? pack(buf, s + 4, e) : 0;
    for (;;) {
      const tag = slots[o] as number;
      if (tag === 0) return 0;
      if (
        tag === h &&
        (len > 8
          ? slots[o + 2] === len && this.sameKey(slots[o + 1] as number, buf, s, len)
          : slots[o + 1] === w0 && slots[o + 2] === w1)
      )
        return this.countAt(o >> 2);
      o = (o + SLOT) & ((mask << 2) | 3);
    }
  }

  /** The tag of slot `i`; 0 when the slot is empty. */
  tagAt(i: number): number {
    return this.slots[i << 2] as number;
  }

  /** The count of the key in slot `i`. */
  countAt(i: number): number {
    const c = this.slots[(i << 2) + 3] as number;
    return c === BIG ? (this.big.get(i) as number) : c;
  }

  /** Bytes of the key in slot `i`. */
  keyLength(i: number): number {
    const o = i << 2;
    const len = (this.slots[o] as number) & 15;
    return len === LONG_KEY ? (this.slots[o + 2] as number) : len;
  }

  /** Byte `k` of the key in slot `i`. */
  keyByte(i: number, k: number): number {
    const o = i << 2;
    if (((this.slots[o] as number) & 15) === LONG_KEY)
      return this.arena[(this.slots[o + 1] as number) + k] as number;
    const w = k < 4 ? (this.slots[o + 1] as number) : (this.slots[o + 2] as number);
    return (w >>> (8 * (k & 3))) & 0xff;
  }

  /** Writes the key bytes in slot `i` into `out` at `o`; returns the new offset. */
  writeKey(i: number, out: Uint8Array, o: number): number {
    const s = i << 2;
    const len = (this.slots[s] as number) & 15;
    if (len === LONG_KEY) {
      const off = this.slots[s + 1] as number;
      const longLen = this.slots[s + 2] as number;
      out.set(this.arena.subarray(off, off + longLen), o);
      return o + longLen;
    }
    const w0 = this.slots[s + 1] as number;
    const w1 = this.slots[s + 2] as number;
    for (let k = 0; k < len; k++) out[o++] = (k < 4 ? w0 >>> (8 * k) : w1 >>> (8 * (k - 4))) & 0xff;
    return o;
  }

  /** Every `key\tcount\n` line, in slot order (no particular order), in pieces. */
  *lines(pieceBytes = 1 << 20): Generator<Uint8Array> {
    let out = new Uint8Array(pieceBytes + 64);
    let o = 0;
    for (let i = 0; i <= this.mask; i++) {
      if (this.slots[i << 2] === 0) continue;
      const need = this.keyLength(i) + 24;
      if (o + need > out.length) {
        if (o > 0) yield out.subarray(0, o);
        out = new Uint8Array(Math.max(pieceBytes, need) + 64);
        o = 0;
      }
      o = this.writeKey(i, out, o);
      out[o++] = TAB;
      o = writeDecimal(this.countAt(i), out, o);
      out[o++] = NEWLINE;
    }
    if (o > 0) yield out.subarray(0, o);
  }

  private sameKey(off: number, buf: Uint8Array, s: number, len: number): boolean {
    const arena = this.arena;
    for (let k = 0; k < len; k++) if (arena[off + k] !== buf[s + k]) return false;
    return true;
  }

  private store(buf: Uint8Array, s: number, e: number): number {
    const len = e - s;
    if (this.arenaUsed + len > this.arena.length) {
      const next = new Uint8Array(Math.max(this.arena.length * 2, this.arenaUsed + len));
      next.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = next;
    }
    const off = this.arenaUsed;
    this.arena.set(buf.subarray(s, e), off);
    this.arenaUsed += len;
    return off;
  }

  private grow(): void {
    const old = this.slots;
    const oldBig = this.big;
    const capacity = (this.mask + 1) * 2;
    const slots = new Int32Array(capacity * SLOT);
    const mask = capacity - 1;
    this.big = new Map();
    for (let o = 0; o < old.length; o += SLOT) {
      const tag = old[o] as number;
      if (tag === 0) continue;
      let p = ((tag >>> 4) & mask) << 2;
      while (slots[p] !== 0) p = (p + SLOT) & ((mask << 2) | 3);
      slots[p] = tag;
      slots[p + 1] = old[o + 1] as number;
      slots[p + 2] = old[o + 2] as number;
      slots[p + 3] = old[o + 3] as number;
      if (old[o + 3] === BIG) this.big.set(p >> 2, oldBig.get(o >> 2) as number);
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/** Writes a decimal non-negative integer at `o`; returns the new offset. */
export function writeDecimal(value: number, out: Uint8Array, o: number): number {
  if (value < 10) {
    out[o] = 48 + value;
    return o + 1;
  }
  let digits = 0;
  for (let v = value; v >= 1; v = Math.floor(v / 10)) digits++;
  let v = value;
  for (let k = o + digits - 1; k >= o; k--) {
    out[k] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return o + digits;
}

function malformed(what: string, pos: number, problem: string): MalformedPartialError {
  return new MalformedPartialError(`${what}: malformed line at byte ${pos}: ${problem}`);
}
