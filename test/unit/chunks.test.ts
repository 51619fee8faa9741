import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { autoChunkSize, formatSize, MiB, parseSize, planRanges } from '../../lib/chunks.js';

describe('planRanges', () => {
  it('covers [0, size) with consecutive ranges of chunkSize bytes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 5000 }),
        (size, chunk) => {
          const ranges = planRanges(size, chunk);
          expect(ranges.length).toBe(Math.ceil(size / chunk));
          let pos = 0;
          const broken = ranges.filter((r, i) => {
            const ok =
              r.index === i && r.start === pos && r.end > r.start && r.end - r.start <= chunk;
            pos = r.end;
            return !ok;
          });
          expect(broken).toEqual([]);
          expect(pos).toBe(size);
        },
      ),
    );
  });

  it('plans no range for an empty object', () => {
    expect(planRanges(0, 10)).toEqual([]);
  });

  it('refuses a chunk size that would make millions of ranges', () => {
    expect(() => planRanges(10_000_000, 1)).toThrow(
      /would split 10000000 bytes into 10000000 ranges/,
    );
    expect(() => planRanges(10, 0)).toThrow(/chunk size must be/);
  });
});

describe('sizes', () => {
  it('parses bytes and binary units', () => {
    expect(parseSize('1')).toBe(1);
    expect(parseSize('64KiB')).toBe(64 * 1024);
    expect(parseSize('16MiB')).toBe(16 * MiB);
    expect(parseSize('16m')).toBe(16 * MiB);
    expect(parseSize('1GiB')).toBe(1024 * MiB);
    expect(() => parseSize('ten')).toThrow(/invalid size 'ten'/);
    expect(() => parseSize('1.5MiB')).toThrow(/invalid size/);
    expect(() => parseSize('4TB')).toThrow(/invalid size/);
  });

  it('formats sizes in the largest exact unit', () => {
    expect(formatSize(16 * MiB)).toBe('16MiB');
    expect(formatSize(1000)).toBe('1000B');
    expect(formatSize(2202206)).toBe('2.10MiB');
  });

  it('spreads a small file over the workers, within bounds', () => {
    expect(autoChunkSize(1024 * MiB, 2)).toBe(16 * MiB);
    expect(autoChunkSize(4 * MiB, 2)).toBe(2 * MiB);
    expect(autoChunkSize(100, 2)).toBe(256 * 1024);
  });
});
