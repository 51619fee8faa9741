/**
 * Tokens longer than the cap: counted under their first TOKEN_CAP_BYTES bytes
 * (extended to the end of the character the cap cuts) plus "…", so the same bytes are
 * the key however the input was split into pieces and ranges.
 */
import { decodeUnit, unitLength } from '../utf8.js';

/** Tokens longer than this many bytes are counted under their first bytes plus "…". */
export const TOKEN_CAP_BYTES = 4096;
/** Suffix of the key a too-long token is counted under. */
export const LONG_TOKEN_SUFFIX = '…';

const LONG_SUFFIX_BYTES = new TextEncoder().encode(LONG_TOKEN_SUFFIX);

/** The first TOKEN_CAP_BYTES of buf[s..], extended to the end of the unit it cuts. */
export function capPrefix(buf: Uint8Array, s: number): Uint8Array {
  // Whole UTF-8 units (a character, or one invalid sequence) that start before the cap.
  let e = s;
  while (e < s + TOKEN_CAP_BYTES && e < buf.length)
    e += unitLength(decodeUnit(buf, e, buf.length, true));
  return buf.slice(s, e);
}

/** The key bytes of a long token whose capped prefix is `prefix`. */
export function longKey(prefix: Uint8Array): Uint8Array {
  const key = new Uint8Array(prefix.length + LONG_SUFFIX_BYTES.length);
  key.set(prefix);
  key.set(LONG_SUFFIX_BYTES, prefix.length);
  return key;
}
