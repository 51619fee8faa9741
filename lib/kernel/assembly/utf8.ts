/**
 * One step of a UTF-8 decoder with the WHATWG replacement rules (each maximal subpart
 * of an ill-formed sequence is one U+FFFD): the wasm twin of lib/utf8.ts, which the
 * differential tests hold it to.
 */

/** The unit at `i` is cut off by the end of a non-final buffer. */
export const NEED_MORE: i32 = -1;

/**
 * Decodes the unit at buf[i] (i < n): `codePoint << 3 | length` when valid,
 * `-(length + 1)` for an invalid unit of `length` bytes, or NEED_MORE.
 */
export function decodeUnit(buf: usize, i: i32, n: i32, final: bool): i32 {
  const b0 = <i32>load<u8>(buf + <usize>i);
  if (b0 < 0x80) return (b0 << 3) | 1;
  let need: i32;
  let cp: i32;
  let lo = 0x80;
  let hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    need = 1;
    cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    need = 2;
    cp = b0 & 0x0f;
    if (b0 == 0xe0) lo = 0xa0;
    else if (b0 == 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 == 0xf0) lo = 0x90;
    else if (b0 == 0xf4) hi = 0x8f;
  } else {
    return -2;
  }
  let k = 1;
  while (k <= need) {
    if (i + k >= n) return final ? -(k + 1) : NEED_MORE;
    const b = <i32>load<u8>(buf + <usize>(i + k));
    if (b < lo || b > hi) return -(k + 1);
    cp = (cp << 6) | (b & 0x3f);
    lo = 0x80;
    hi = 0xbf;
    k++;
  }
  return (cp << 3) | k;
}
