/** Where a key list's listing starts and what prefix it lists: pure, against UTF-8 bytes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commonPrefix, keyBefore } from '../../lib/job/request/resolve-keys.js';

const bytesOf = (s: string) => Buffer.from(s, 'utf8');
const compareBytes = (a: string, b: string) => Buffer.compare(bytesOf(a), bytesOf(b));
/** Characters where UTF-16 and UTF-8 orders differ, and the edges keyBefore steps over. */
const tricky = fc.constantFrom(
  'a',
  'b',
  '/',
  '\u0000',
  '\u0001',
  '\ud7ff',
  '\ue000',
  'é',
  '\u{1f600}',
);
const wellFormed = (s: string) => !/[\ud800-\udfff]/u.test(s);
/** Keys as S3 takes them: whole characters only. */
const key = fc
  .string({ unit: fc.oneof(tricky, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })) })
  .filter(wellFormed);

describe('keyBefore', () => {
  it('sorts before the key in UTF-8 bytes, and only its own extensions lie between', () => {
    fc.assert(
      fc.property(key, key, (k, x) => {
        const before = keyBefore(k);
        if (before === undefined) {
          expect(k === '' || k === '\u0000').toBe(true);
          return;
        }
        expect(compareBytes(before, k)).toBeLessThan(0);
        expect(wellFormed(before)).toBe(true);
        if (compareBytes(before, x) < 0 && compareBytes(x, k) < 0) {
          expect(x.startsWith(before)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('lowers the last character, stepping over the surrogates', () => {
    expect(keyBefore('input/b.txt')).toBe('input/b.txs');
    expect(keyBefore('input/\ue000')).toBe('input/\ud7ff');
    expect(keyBefore('input/\u{1f600}')).toBe('input/\u{1f5ff}');
    expect(keyBefore('input/\u0000')).toBe('input/');
    expect(keyBefore('')).toBeUndefined();
  });
});

describe('commonPrefix', () => {
  it('is the longest prefix of whole characters both keys share', () => {
    fc.assert(
      fc.property(key, key, (a, b) => {
        const prefix = commonPrefix(a, b);
        expect(a.startsWith(prefix) && b.startsWith(prefix)).toBe(true);
        expect(wellFormed(prefix)).toBe(true);
        // One character more is not shared.
        const more = [...a.slice(prefix.length)][0];
        if (more !== undefined) expect(b.startsWith(prefix + more)).toBe(false);
      }),
      { numRuns: 2000 },
    );
    expect(commonPrefix('input/a/1.txt', 'input/a/2.txt')).toBe('input/a/');
    expect(commonPrefix('x/\u{1f600}', 'x/\u{1f601}')).toBe('x/');
  });
});
