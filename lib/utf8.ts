/**
 * One step of a UTF-8 decoder with the replacement rules of the WHATWG Encoding
 * standard, which are also Python's `decode('utf-8', errors='replace')`: each maximal
 * subpart of an ill-formed sequence becomes one U+FFFD, and a byte that breaks a
 * sequence is not consumed by it.
 */

/** Returned when the unit at `i` is cut off by the end of a non-final buffer. */
export const NEED_MORE = -1;

/**
 * Decodes the unit starting at `buf[i]` (i < n).
 * Returns `codePoint * 8 + length` for a valid unit, `-(length + 1)` for an invalid
 * unit (one U+FFFD of `length` bytes), or NEED_MORE.
 */
export function decodeUnit(buf: Uint8Array, i: number, n: number, final: boolean): number {
  const b0 = buf[i] as number;
  if (b0 < 0x80) return b0 * 8 + 1;
  let need: number;
  let cp: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    need = 1;
    cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    need = 2;
    cp = b0 & 0x0f;
    if (b0 === 0xe0) lo = 0xa0;
    else if (b0 === 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 === 0xf0) lo = 0x90;
    else if (b0 === 0xf4) hi = 0x8f;
  } else {
    return -2;
  }
  let k = 1;
  while (k <= need) {
    if (i + k >= n) return final ? -(k + 1) : NEED_MORE;
    const b = buf[i + k] as number;
    if (b < lo || b > hi) return -(k + 1);
    cp = (cp << 6) | (b & 0x3f);
    lo = 0x80;
    hi = 0xbf;
    k++;
  }
  return cp * 8 + k;
}

/** Length in bytes of a unit returned by decodeUnit (valid or invalid). */
export function unitLength(u: number): number {
  return u > 0 ? u & 7 : -u - 1;
}

/** True for bytes 0x80-0xBF, which never start a unit boundary inside a valid sequence. */
export function isContinuationByte(b: number): boolean {
  return (b & 0xc0) === 0x80;
}
