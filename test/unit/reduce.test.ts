import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareUtf8, countsTsv, mergeEntries, sortCounts, topCounts } from '../../lib/reduce.js';

describe('mergeEntries', () => {
  it('adds counts of the same word across partials', () => {
    const map = new Map<string, number>();
    mergeEntries(map, 'a\t2\nb\t1\n');
    mergeEntries(map, 'a\t3\nc\t1\n');
    expect([...map]).toEqual([
      ['a', 5],
      ['b', 1],
      ['c', 1],
    ]);
  });

  it('rejects a line without a count', () => {
    expect(() => mergeEntries(new Map(), 'oops\n')).toThrow(/malformed partial entry: oops/);
  });
});

describe('ordering', () => {
  it('compares strings by their UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        const bytes = Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
        expect(Math.sign(compareUtf8(a, b))).toBe(bytes);
      }),
      { numRuns: 2000 },
    );
    // UTF-16 order puts U+FF5E after U+1F600's surrogates; UTF-8 order does the opposite.
    expect(compareUtf8('\uff5e', '😀')).toBeLessThan(0);
  });

  it('sorts by count descending, then by UTF-8 bytes', () => {
    const rows = sortCounts(
      new Map([
        ['b', 2],
        ['😀', 1],
        ['\uff5e', 1],
        ['a', 2],
        ['Z', 1],
      ]),
    );
    expect(rows).toEqual([
      ['a', 2],
      ['b', 2],
      ['Z', 1],
      ['\uff5e', 1],
      ['😀', 1],
    ]);
  });

  it('topCounts equals the head of the full sort', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.integer({ min: 1, max: 5 })),
        fc.integer({ min: 0, max: 100 }),
        (dict, k) => {
          const map = new Map(Object.entries(dict));
          expect(topCounts(map, k)).toEqual(sortCounts(map).slice(0, k));
        },
      ),
    );
  });

  it('writes word<TAB>count lines', () => {
    expect(
      [
        ...countsTsv([
          ['a', 2],
          ['b', 1],
        ]),
      ].join(''),
    ).toBe('a\t2\nb\t1\n');
    expect([...countsTsv([])]).toEqual([]);
  });
});
