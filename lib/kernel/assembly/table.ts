/**
 * The kernel's hash table, in wasm memory: open addressing keyed by byte strings.
 * A slot is 16 bytes: tag, a, b, count. tag = hash bits above the low 4, which hold the
 * key length (1-8) or LONG_KEY; keys of up to 8 bytes live packed little-endian in a
 * and b, longer ones in the table's arena at offset a with length b. The tags are
 * lib/key-hash.ts's, so a key's partition follows from its slot.
 */

const LONG_KEY: u32 = 15;
const FNV_OFFSET: u32 = 0x811c9dc5;
const FNV_PRIME: u32 = 16777619;
/** A slot's count stops here; the rest goes to overflow lines. */
const MAX_SLOT_COUNT: u32 = 0x7fffffff;
/** Tables up to this many slots (4 MiB) stay in the cache: half full; bigger, three quarters. */
const CACHED_SLOTS: u32 = 1 << 18;

// Fields of a table header.
const SLOTS = 0;
const MASK = 4;
const SIZE = 8;
const LIMIT = 12;
const ARENA = 16;
const ARENA_USED = 20;
const ARENA_CAP = 24;
const OVF = 28;
const OVF_LEN = 32;
const OVF_CAP = 36;
const OVF_LINES = 40;
const HEADER_BYTES = 44;

function loadLimit(capacity: u32): u32 {
  return capacity <= CACHED_SLOTS ? capacity >> 1 : (capacity >> 2) * 3;
}

/** A table of `capacity` slots (a power of two). */
export function tableNew(capacity: u32): usize {
  const t = heap.alloc(HEADER_BYTES);
  const slots = heap.alloc((<usize>capacity) << 4);
  memory.fill(slots, 0, (<usize>capacity) << 4);
  store<usize>(t, slots, SLOTS);
  store<u32>(t, capacity - 1, MASK);
  store<u32>(t, 0, SIZE);
  store<u32>(t, loadLimit(capacity), LIMIT);
  const arenaCap: u32 = 1 << 16;
  store<usize>(t, heap.alloc(arenaCap), ARENA);
  store<u32>(t, 0, ARENA_USED);
  store<u32>(t, arenaCap, ARENA_CAP);
  store<usize>(t, 0, OVF);
  store<u32>(t, 0, OVF_LEN);
  store<u32>(t, 0, OVF_CAP);
  store<u32>(t, 0, OVF_LINES);
  return t;
}

function shortTag(w0: u32, w1: u32, len: u32): u32 {
  const h = (w0 ^ ((w1 ^ len) * 0x9e3779b1)) * 0x85ebca6b;
  return ((h ^ (h >>> 15)) & ~15) | len;
}

function longTag(fnv: u32): u32 {
  return ((fnv ^ (fnv >>> 15)) & ~15) | LONG_KEY;
}

/** lib/key-hash.ts's partitionOfTag. */
function partitionOfTag(tag: u32, partitions: u32): u32 {
  let h = tag;
  h ^= h >>> 16;
  h *= 0x85ebca6b;
  h ^= h >>> 13;
  h *= 0xc2b2ae35;
  h ^= h >>> 16;
  return h % partitions;
}

const BYTE_MASKS: usize = memory.data<u32>([0, 0xff, 0xffff, 0xffffff, 0xffffffff]);

/**
 * Counts one occurrence of the key buf[s..e) (1 or more bytes). `lower` sets bit 0x20
 * of every byte: exact ASCII lower-casing for keys of [A-Za-z0-9'-], all `words` puts
 * here. Reads up to 8 bytes from s: the input region has 8 bytes of slack.
 */
export function tableAdd(t: usize, buf: usize, s: i32, e: i32, lower: bool): void {
  const len = <u32>(e - s);
  if (len > 8) {
    addLong(t, buf + <usize>s, len, lower);
    return;
  }
  const fold: u32 = lower ? 0x20202020 : 0;
  const p = buf + <usize>s;
  let w0: u32;
  let w1: u32 = 0;
  if (len <= 4) w0 = (load<u32>(p) | fold) & load<u32>(BYTE_MASKS + ((<usize>len) << 2));
  else {
    w0 = load<u32>(p) | fold;
    w1 = (load<u32>(p, 4) | fold) & load<u32>(BYTE_MASKS + ((<usize>(len - 4)) << 2));
  }
  addShort(t, w0, w1, len);
}

/** Counts one occurrence of the key of `len` (1-8) bytes packed little-endian in w0, w1. */
@inline
export function addShort(t: usize, w0: u32, w1: u32, len: u32): void {
  const h = shortTag(w0, w1, len);
  const slots = load<usize>(t, SLOTS);
  const mask = load<u32>(t, MASK);
  let idx = (h >>> 4) & mask;
  while (true) {
    const slot = slots + ((<usize>idx) << 4);
    const tag = load<u32>(slot);
    if (tag == h && load<u32>(slot, 4) == w0 && load<u32>(slot, 8) == w1) {
      bump(t, slot);
      return;
    }
    if (tag == 0) {
      store<u32>(slot, h);
      store<u32>(slot, w0, 4);
      store<u32>(slot, w1, 8);
      store<u32>(slot, 1, 12);
      inserted(t);
      return;
    }
    idx = (idx + 1) & mask;
  }
}

function addLong(t: usize, key: usize, len: u32, lower: bool): void {
  const fold: u32 = lower ? 0x20 : 0;
  let fnv = FNV_OFFSET;
  for (let k: u32 = 0; k < len; k++) fnv = (fnv ^ (<u32>load<u8>(key + k) | fold)) * FNV_PRIME;
  const h = longTag(fnv);
  const slots = load<usize>(t, SLOTS);
  const mask = load<u32>(t, MASK);
  let idx = (h >>> 4) & mask;
  while (true) {
    const slot = slots + ((<usize>idx) << 4);
    const tag = load<u32>(slot);
    if (tag == 0) break;
    if (tag == h && load<u32>(slot, 8) == len && sameKey(t, load<u32>(slot, 4), key, len, fold)) {
      bump(t, slot);
      return;
    }
    idx = (idx + 1) & mask;
  }
  const slot = slots + ((<usize>idx) << 4);
  store<u32>(slot, h);
  store<u32>(slot, storeKey(t, key, len, fold), 4);
  store<u32>(slot, len, 8);
  store<u32>(slot, 1, 12);
  inserted(t);
}

function sameKey(t: usize, off: u32, key: usize, len: u32, fold: u32): bool {
  const arena = load<usize>(t, ARENA) + off;
  for (let k: u32 = 0; k < len; k++) {
    if (<u32>load<u8>(arena + k) != (<u32>load<u8>(key + k) | fold)) return false;
  }
  return true;
}

function storeKey(t: usize, key: usize, len: u32, fold: u32): u32 {
  const used = load<u32>(t, ARENA_USED);
  let cap = load<u32>(t, ARENA_CAP);
  if (used + len > cap) {
    while (used + len > cap) cap *= 2;
    store<usize>(t, heap.realloc(load<usize>(t, ARENA), cap), ARENA);
    store<u32>(t, cap, ARENA_CAP);
  }
  const at = load<usize>(t, ARENA) + used;
  for (let k: u32 = 0; k < len; k++) store<u8>(at + k, <u8>(<u32>load<u8>(key + k) | fold));
  store<u32>(t, used + len, ARENA_USED);
  return used;
}

@inline
function bump(t: usize, slot: usize): void {
  const c = load<u32>(slot, 12) + 1;
  if (c < MAX_SLOT_COUNT) store<u32>(slot, c, 12);
  else {
    // A full slot's worth becomes a line of its own; the merge adds the lines up.
    store<u32>(slot, 0, 12);
    overflowLine(t, slot, c);
  }
}

function overflowLine(t: usize, slot: usize, count: u32): void {
  // writeLine stores a short key as two whole words: room for 8 key bytes.
  const need = max(keyLength(slot), 8) + 12;
  const len = load<u32>(t, OVF_LEN);
  let cap = load<u32>(t, OVF_CAP);
  if (len + need > cap) {
    cap = max(cap * 2, len + need + 256);
    // The first overflow line allocates the buffer: realloc wants a block to grow.
    const ovf = load<usize>(t, OVF);
    store<usize>(t, ovf == 0 ? heap.alloc(cap) : heap.realloc(ovf, cap), OVF);
    store<u32>(t, cap, OVF_CAP);
  }
  const base = load<usize>(t, OVF);
  const end = writeLine(t, slot, count, base + len);
  store<u32>(t, <u32>(end - base), OVF_LEN);
  store<u32>(t, load<u32>(t, OVF_LINES) + 1, OVF_LINES);
}

@inline
function inserted(t: usize): void {
  const size = load<u32>(t, SIZE) + 1;
  store<u32>(t, size, SIZE);
  if (size > load<u32>(t, LIMIT)) rehash(t);
}

function rehash(t: usize): void {
  const old = load<usize>(t, SLOTS);
  const oldCapacity = load<u32>(t, MASK) + 1;
  const capacity = oldCapacity * 2;
  const mask = capacity - 1;
  const slots = heap.alloc((<usize>capacity) << 4);
  memory.fill(slots, 0, (<usize>capacity) << 4);
  for (let i: u32 = 0; i < oldCapacity; i++) {
    const from = old + ((<usize>i) << 4);
    const tag = load<u32>(from);
    if (tag == 0) continue;
    let idx = (tag >>> 4) & mask;
    while (load<u32>(slots + ((<usize>idx) << 4)) != 0) idx = (idx + 1) & mask;
    memory.copy(slots + ((<usize>idx) << 4), from, 16);
  }
  heap.free(old);
  store<usize>(t, slots, SLOTS);
  store<u32>(t, mask, MASK);
  store<u32>(t, loadLimit(capacity), LIMIT);
}

function keyLength(slot: usize): u32 {
  const len = load<u32>(slot) & 15;
  return len == LONG_KEY ? load<u32>(slot, 8) : len;
}

function decimalDigits(n: u32): u32 {
  let digits: u32 = 1;
  for (let v = n; v >= 10; v /= 10) digits++;
  return digits;
}

/** Writes `\tcount\n` at `out`; returns where it ends. */
function writeCount(count: u32, out: usize): usize {
  let o = out;
  store<u8>(o++, 9);
  const digits = decimalDigits(count);
  let v = count;
  for (let k = o + digits - 1; k >= o; k--) {
    store<u8>(k, <u8>(48 + (v % 10)));
    v /= 10;
  }
  o += digits;
  store<u8>(o++, 10);
  return o;
}

/** Writes `key\tcount\n` at `out`; returns where it ends. */
function writeLine(t: usize, slot: usize, count: u32, out: usize): usize {
  const len = load<u32>(slot) & 15;
  let o = out;
  if (len == LONG_KEY) {
    const keyLen = load<u32>(slot, 8);
    memory.copy(o, load<usize>(t, ARENA) + <usize>load<u32>(slot, 4), keyLen);
    o += keyLen;
  } else {
    // Both words, whole: the bytes past the key are overwritten by what follows.
    store<u32>(o, load<u32>(slot, 4));
    store<u32>(o, load<u32>(slot, 8), 4);
    o += len;
  }
  return writeCount(count, o);
}

/** Keys held. */
export function tableDistinct(t: usize): u32 {
  return load<u32>(t, SIZE);
}

/** Sum of the counts. */
export function tableTotal(t: usize): f64 {
  const slots = load<usize>(t, SLOTS);
  const capacity = load<u32>(t, MASK) + 1;
  let total: u64 = <u64>load<u32>(t, OVF_LINES) * MAX_SLOT_COUNT;
  for (let i: u32 = 0; i < capacity; i++) total += load<u32>(slots + ((<usize>i) << 4), 12);
  return <f64>total;
}

/** Bytes the table holds (slots and arena): a task spills before this grows too big. */
export function tableBytes(t: usize): f64 {
  return <f64>(((load<u32>(t, MASK) + 1) << 4) + load<u32>(t, ARENA_CAP));
}

/** Whether some key passed 2^31 - 1 and has overflow lines. */
export function tableOverflowed(t: usize): bool {
  return load<u32>(t, OVF_LINES) > 0;
}

/** Upper bound of the bytes of tableLines (8 key bytes per short key, for whole-word stores). */
export function tableLinesBound(t: usize): f64 {
  const slots = load<usize>(t, SLOTS);
  const capacity = load<u32>(t, MASK) + 1;
  let bytes: u64 = load<u32>(t, OVF_LEN);
  for (let i: u32 = 0; i < capacity; i++) {
    const slot = slots + ((<usize>i) << 4);
    const tag = load<u32>(slot);
    if (tag == 0 || load<u32>(slot, 12) == 0) continue;
    bytes += ((tag & 15) == LONG_KEY ? load<u32>(slot, 8) : 8) + 12;
  }
  return <f64>bytes;
}

/** Writes every key as `key\tcount\n` at `out` (overflow lines first); returns the bytes written. */
export function tableLines(t: usize, out: usize): u32 {
  memory.copy(out, load<usize>(t, OVF), load<u32>(t, OVF_LEN));
  let o = out + <usize>load<u32>(t, OVF_LEN);
  const slots = load<usize>(t, SLOTS);
  const capacity = load<u32>(t, MASK) + 1;
  for (let i: u32 = 0; i < capacity; i++) {
    const slot = slots + ((<usize>i) << 4);
    if (load<u32>(slot) == 0) continue;
    const count = load<u32>(slot, 12);
    if (count == 0) continue;
    o = writeLine(t, slot, count, o);
  }
  return <u32>(o - out);
}

/**
 * The lines of tableLines without overflow lines, grouped by partition: fills
 * offsets[0..partitions] (u32) and returns the total bytes.
 */
export function tablePartitionOffsets(t: usize, partitions: u32, offsets: usize): u32 {
  memory.fill(offsets, 0, (<usize>partitions + 1) << 2);
  const slots = load<usize>(t, SLOTS);
  const capacity = load<u32>(t, MASK) + 1;
  for (let i: u32 = 0; i < capacity; i++) {
    const slot = slots + ((<usize>i) << 4);
    const tag = load<u32>(slot);
    const count = load<u32>(slot, 12);
    if (tag == 0 || count == 0) continue;
    const at = offsets + ((<usize>partitionOfTag(tag, partitions) + 1) << 2);
    store<u32>(at, load<u32>(at) + keyLength(slot) + 2 + decimalDigits(count));
  }
  for (let p: u32 = 1; p <= partitions; p++) {
    const at = offsets + ((<usize>p) << 2);
    store<u32>(at, load<u32>(at) + load<u32>(at - 4));
  }
  return load<u32>(offsets + ((<usize>partitions) << 2));
}

/**
 * Writes the partitioned lines at `out` (offsets from tablePartitionOffsets); `cursor`
 * is scratch for partitions + 1 u32s. Short keys are written byte by byte: the next
 * partition's bytes follow with no slack.
 */
export function tablePartitionWrite(
  t: usize,
  partitions: u32,
  offsets: usize,
  cursor: usize,
  out: usize,
): void {
  memory.copy(cursor, offsets, (<usize>partitions + 1) << 2);
  const slots = load<usize>(t, SLOTS);
  const capacity = load<u32>(t, MASK) + 1;
  for (let i: u32 = 0; i < capacity; i++) {
    const slot = slots + ((<usize>i) << 4);
    const tag = load<u32>(slot);
    const count = load<u32>(slot, 12);
    if (tag == 0 || count == 0) continue;
    const at = cursor + ((<usize>partitionOfTag(tag, partitions)) << 2);
    const o = out + <usize>load<u32>(at);
    const end = writeLineExact(t, slot, count, o);
    store<u32>(at, <u32>(end - out));
  }
}

/** writeLine without writing past the line's end. */
function writeLineExact(t: usize, slot: usize, count: u32, out: usize): usize {
  const len = load<u32>(slot) & 15;
  if (len == LONG_KEY) return writeLine(t, slot, count, out);
  let o = out;
  for (let k: u32 = 0; k < len; k++) {
    const word = k < 4 ? load<u32>(slot, 4) : load<u32>(slot, 8);
    store<u8>(o++, <u8>(word >>> ((k & 3) << 3)));
  }
  return writeCount(count, o);
}
