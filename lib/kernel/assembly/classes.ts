/**
 * Character classes of both modes for the wasm scanners: per-byte tables for ASCII and
 * a lazily filled cache for other code points, whose `words` class comes from the
 * host (lib/tokenize.ts's wordClass, one call per distinct code point).
 */

import { hostWordClass } from './host';

/** `words` classes (lib/tokenize.ts). */
export const SEP: i32 = 0;
export const WORD: i32 = 1;
export const JOINER: i32 = 2;
export const SCRIPT_RUN: i32 = 3;
/** In WORD_BYTE: a byte >= 0x80, decoded on the slow path. */
export const NOT_ASCII: i32 = 3;

/** `whitespace` class per byte: 0 token byte, 1 ASCII whitespace, 2 not ASCII. */
export const WS_BYTE: usize = memory.data(256);
/** `words` class per byte: SEP, WORD or JOINER for ASCII, NOT_ASCII above. */
export const WORD_BYTE: usize = memory.data(256);

let classCache: usize = 0;

export function initClasses(): void {
  for (let b = 0; b < 256; b++) {
    let ws: u8 = 0;
    if (b >= 0x80) ws = 2;
    else if ((b >= 0x09 && b <= 0x0d) || (b >= 0x1c && b <= 0x20)) ws = 1;
    store<u8>(WS_BYTE + <usize>b, ws);
    let word = SEP;
    if (b >= 0x80) word = NOT_ASCII;
    else if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a))
      word = WORD;
    else if (b == 0x27 || b == 0x2d) word = JOINER;
    store<u8>(WORD_BYTE + <usize>b, <u8>word);
  }
}

/** Python's `str.isspace` for a code point (lib/tokenize.ts's isPythonWhitespace). */
export function isPythonWhitespace(cp: i32): bool {
  if (cp < 0x80) return load<u8>(WS_BYTE + <usize>cp) == 1;
  if (cp < 0x1680) return cp == 0x85 || cp == 0xa0;
  if (cp >= 0x2000 && cp <= 0x200a) return true;
  return (
    cp == 0x1680 || cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000
  );
}

/** The `words` class of a code point. */
export function wordClass(cp: i32): i32 {
  if (cp < 0x80) return <i32>load<u8>(WORD_BYTE + <usize>cp);
  if (classCache == 0) {
    classCache = heap.alloc(0x110000);
    memory.fill(classCache, 0, 0x110000);
  }
  const at = classCache + <usize>cp;
  let cached = <i32>load<u8>(at);
  if (cached == 0) {
    cached = hostWordClass(cp) + 1;
    store<u8>(at, <u8>cached);
  }
  return cached - 1;
}
