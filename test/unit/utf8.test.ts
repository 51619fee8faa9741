import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeUnit, NEED_MORE, unitLength } from '../../lib/utf8.js';

/** Decodes with decodeUnit, step by step, into code points (-1 for U+FFFD from bad input). */
function decodeAll(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < bytes.length) {
    const u = decodeUnit(bytes, i, bytes.length, true);
    out.push(u > 0 ? u >>> 3 : 0xfffd);
    i += unitLength(u);
  }
  return out;
}

describe('decodeUnit', () => {
  it('decodes exactly like TextDecoder with replacement, for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const expected = [...new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes)].map((c) =>
          c.codePointAt(0),
        );
        expect(decodeAll(bytes)).toEqual(expected);
      }),
      { numRuns: 5000 },
    );
  });

  it('makes one replacement per maximal subpart, as Python does', () => {
    // b'\xed\xa0\x80'.decode('utf-8', 'replace') == '\ufffd' * 3 (a surrogate is ill-formed)
    expect(decodeAll(new Uint8Array([0xed, 0xa0, 0x80]))).toEqual([0xfffd, 0xfffd, 0xfffd]);
    // b'\xe2\x80 '.decode(...) == '\ufffd ' : a truncated sequence is one replacement
    expect(decodeAll(new Uint8Array([0xe2, 0x80, 0x20]))).toEqual([0xfffd, 0x20]);
    expect(decodeAll(new Uint8Array([0xf0, 0x9f, 0x98, 0x80]))).toEqual([0x1f600]);
  });

  it('asks for more bytes when a sequence is cut by the end of a non-final buffer', () => {
    expect(decodeUnit(new Uint8Array([0xe3, 0x80]), 0, 2, false)).toBe(NEED_MORE);
    expect(decodeUnit(new Uint8Array([0xe3, 0x80]), 0, 2, true)).toBe(-3);
    expect(decodeUnit(new Uint8Array([0xe3, 0x41]), 0, 2, false)).toBe(-2);
  });
});
