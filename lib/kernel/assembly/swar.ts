/**
 * Eight bytes at a time: one 64-bit load at a token's start finds where a short token
 * ends and is, masked, its key. Each test flags (0x80 in that byte) the bytes that may
 * end a token; only the lowest flag is exact (a borrow may disturb the bytes above it),
 * and only the lowest is used.
 */

const ONES: u64 = 0x0101010101010101;
const HIGHS: u64 = 0x8080808080808080;

/** Bytes below 0x21 (ASCII whitespace is among them) or above 0x7f. */
export function whitespaceStops(x: u64): u64 {
  return ((x - ONES * 0x21) | x) & HIGHS;
}

/** Bytes that are not an ASCII letter or digit. */
export function wordStops(x: u64): u64 {
  const x7 = x & ~HIGHS;
  // No byte carries into the next: every sum stays below 0x100.
  const y = x7 | (ONES * 0x20);
  const letter = (y + ONES * (0x80 - 0x61)) & ~(y + ONES * (0x80 - 0x7b));
  const digit = (x7 + ONES * (0x80 - 0x30)) & ~(x7 + ONES * (0x80 - 0x3a));
  return ~((letter | digit) & ~x) & HIGHS;
}

/** The index (0-7) of the lowest flagged byte of a nonzero `stops`. */
export function firstStop(stops: u64): i32 {
  return <i32>(ctz(stops) >> 3);
}

/** The low `len` (1-7) bytes of x. */
export function lowBytes(x: u64, len: i32): u64 {
  return x & ((<u64>1 << (<u64>len << 3)) - 1);
}
