/**
 * The hash of a key's bytes, shared by the kernel's table, the reduce side's count
 * table and the partitioner, so that a word's partition follows from the tag its table
 * slot already holds. tag = hash bits above the low 4, which hold the key length
 * (1-8) or LONG_KEY for longer keys; a tag is never 0.
 */

export const LONG_KEY = 15;
export const FNV_OFFSET = 0x811c9dc5 | 0;
export const FNV_PRIME = 16777619;
const BYTE_MASKS = [0, 0xff, 0xffff, 0xffffff, -1] as const;

/** The tag of a key of `len` (1-8) bytes packed little-endian in w0 (bytes 0-3) and w1. */
export function shortTag(w0: number, w1: number, len: number): number {
  const h = Math.imul(w0 ^ Math.imul(w1 ^ len, 0x9e3779b1), 0x85ebca6b);
  return ((h ^ (h >>> 15)) & ~15) | len;
}

/** The tag of a longer key whose FNV-1a hash is `fnv`. */
export function longTag(fnv: number): number {
  return ((fnv ^ (fnv >>> 15)) & ~15) | LONG_KEY;
}

/** The tag of the key `buf[s..e)` (at least one byte). */
export function keyTag(buf: Uint8Array, s: number, e: number): number {
  const len = e - s;
  if (len > 8) {
    let h = FNV_OFFSET;
    for (let k = s; k < e; k++) h = Math.imul(h ^ (buf[k] as number), FNV_PRIME);
    return longTag(h);
  }
  let w0 = 0;
  let w1 = 0;
  for (let k = 0; k < len; k++) {
    const b = buf[s + k] as number;
    if (k < 4) w0 |= b << (8 * k);
    else w1 |= b << (8 * (k - 4));
  }
  return shortTag(w0 & (BYTE_MASKS[Math.min(len, 4)] as number), w1, len);
}

/** The partition of a key with `tag` among `partitions` (murmur3's finalizer, then the remainder). */
export function partitionOfTag(tag: number, partitions: number): number {
  let h = tag;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % partitions;
}
