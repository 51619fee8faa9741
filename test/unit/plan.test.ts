import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  autoChunkSize,
  DEFAULT_CHUNK_SIZE,
  growChunkSize,
  MAX_AUTO_CHUNK_SIZE,
  MAX_OBJECTS_PER_TASK,
  type MapTaskPlan,
  planRanges,
  planTasks,
  type SourceObject,
  type Split,
  TARGET_JOB_TASKS,
} from '../../lib/plan.js';
import { formatSize, MiB, parseSize } from '../../lib/sizes.js';

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

  it('cuts a big file into a number of ranges that divides evenly among the workers', () => {
    // 256.2 MiB on 2 workers: 18 ranges of 14.2 MiB, not 16 of 16 MiB and a 0.2 MiB one.
    expect(planRanges(268_669_132, autoChunkSize(268_669_132, 2))).toHaveLength(18);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.double({ min: 1, max: 64, noNaN: true }),
        (w, per) => {
          const size = Math.floor(w * per * DEFAULT_CHUNK_SIZE);
          const chunk = autoChunkSize(size, w);
          expect(chunk).toBeLessThanOrEqual(DEFAULT_CHUNK_SIZE);
          expect(planRanges(size, chunk).length % w).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('a chunk size that grows with the job', () => {
  const TB = 1e12;

  it('keeps 16 MiB up to the target number of tasks, then doubles, up to 256 MiB', () => {
    expect(growChunkSize(10e9, DEFAULT_CHUNK_SIZE)).toBe(16 * MiB);
    expect(growChunkSize(TB, DEFAULT_CHUNK_SIZE)).toBe(64 * MiB);
    expect(Math.ceil(TB / (64 * MiB))).toBe(14_902);
    expect(growChunkSize(100 * TB, DEFAULT_CHUNK_SIZE)).toBe(MAX_AUTO_CHUNK_SIZE);
    // An operator's bigger default is never made smaller.
    expect(growChunkSize(1e6, 512 * MiB)).toBe(512 * MiB);
    // The embedded planner grows the same way past the target.
    expect(autoChunkSize(TB, 2)).toBe(64 * MiB);
  });

  it('plans at most the target number of ranges below the ceiling, each as big as needed', () => {
    fc.assert(
      fc.property(fc.double({ min: 1, max: 4e13, noNaN: true }), (bytes) => {
        const size = Math.floor(bytes);
        const chunk = growChunkSize(size, DEFAULT_CHUNK_SIZE);
        expect(chunk).toBeGreaterThanOrEqual(DEFAULT_CHUNK_SIZE);
        expect(chunk).toBeLessThanOrEqual(MAX_AUTO_CHUNK_SIZE);
        if (chunk < MAX_AUTO_CHUNK_SIZE)
          expect(Math.ceil(size / chunk)).toBeLessThanOrEqual(TARGET_JOB_TASKS);
        // The smallest such power-of-two multiple: half of it would be too many.
        if (chunk > DEFAULT_CHUNK_SIZE)
          expect(Math.ceil(size / (chunk / 2))).toBeGreaterThan(TARGET_JOB_TASKS);
      }),
      { numRuns: 1000 },
    );
  });
});

const object = (key: string, size: number, split?: boolean | Split): SourceObject => ({
  key,
  uri: `/data/${key}`,
  size,
  etag: `e-${key}`,
  split:
    split === undefined
      ? undefined
      : typeof split === 'boolean'
        ? split
          ? { kind: 'whole' }
          : { kind: 'ranges', format: 'text' }
        : split,
});

/** Every owned byte of every object, as "key@offset", once. */
function ownedBytes(tasks: readonly MapTaskPlan[]): string[] {
  const owned: string[] = [];
  for (const task of tasks)
    for (const s of task.slices) for (let b = s.start; b < s.end; b++) owned.push(`${s.key}@${b}`);
  return owned.sort();
}

describe('planTasks', () => {
  const objects = fc.array(
    fc.record({
      size: fc.nat({ max: 300 }),
      gzip: fc.boolean(),
    }),
    { maxLength: 30 },
  );

  it('owns every byte of every object exactly once, whatever the chunk size', () => {
    fc.assert(
      fc.property(objects, fc.integer({ min: 1, max: 120 }), (specs, chunkSize) => {
        const listed = specs.map((s, i) =>
          object(`k${String(i).padStart(3, '0')}`, s.size, s.gzip),
        );
        const tasks = planTasks(listed, chunkSize);
        const expected = listed.flatMap((o) =>
          Array.from({ length: o.size }, (_, b) => `${o.key}@${b}`),
        );
        expect(ownedBytes(tasks)).toEqual(expected.sort());
        expect(tasks.map((t) => t.index)).toEqual(tasks.map((_, i) => i));
        for (const task of tasks) {
          expect(task.bytes).toBe(task.slices.reduce((n, s) => n + s.end - s.start, 0));
          // A pack stays within the chunk size; a range is at most one chunk.
          if (task.slices.length > 1) expect(task.bytes).toBeLessThanOrEqual(chunkSize);
          expect(task.slices.length).toBeLessThanOrEqual(MAX_OBJECTS_PER_TASK);
        }
      }),
    );
  });

  it('keeps a gzip object whole in a task of its own and cuts a big text object into ranges', () => {
    const tasks = planTasks(
      [
        object('a.txt', 10),
        object('big.gz', 500, true),
        object('big.txt', 250, false),
        object('b.txt', 10),
      ],
      100,
    );
    expect(
      tasks.map((t) =>
        t.slices.map((s) => `${s.key}:${s.start}-${s.end}${s.whole ? ' whole' : ''}`),
      ),
    ).toEqual([
      ['a.txt:0-10 whole'],
      ['big.gz:0-500 whole'],
      ['big.txt:0-100'],
      ['big.txt:100-200'],
      ['big.txt:200-250'],
      ['b.txt:0-10 whole'],
    ]);
  });

  it('packs 500 small objects into a handful of tasks at the default chunk size', () => {
    const small = Array.from({ length: 500 }, (_, i) => object(`doc-${i}.txt`, 20_000 + i));
    const tasks = planTasks(small, DEFAULT_CHUNK_SIZE);
    expect(tasks.length).toBeLessThanOrEqual(20);
    expect(tasks.length).toBe(Math.ceil(500 / MAX_OBJECTS_PER_TASK));
  });

  it('gives empty objects no task', () => {
    expect(planTasks([object('empty', 0), object('also', 0)], 10)).toEqual([]);
  });

  it('must know how an object too big for one task splits', () => {
    expect(() => planTasks([object('big', 11)], 10)).toThrow(/how it splits must be known/);
  });

  it('gives every row group of a Parquet object to exactly one task, in runs of up to a chunk', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 120 }),
        (sizes, chunkSize) => {
          let at = 4;
          const groups = sizes.map((n) => {
            const g = { start: at, end: at + n };
            at += n;
            return g;
          });
          const size = at + 8;
          fc.pre(size > chunkSize);
          const tasks = planTasks(
            [object('f.parquet', size, { kind: 'rowGroups', groups })],
            chunkSize,
          );
          const seen: number[] = [];
          for (const task of tasks) {
            const [slice] = task.slices;
            expect(task.slices).toHaveLength(1);
            const [from, to] = slice?.rowGroups ?? [0, 0];
            expect(slice).toMatchObject({
              format: 'parquet',
              size,
              start: groups[from]?.start,
              end: groups[to - 1]?.end,
              whole: false,
            });
            for (let g = from; g < to; g++) seen.push(g);
            // A run is within the chunk size unless it is a single group.
            if (to - from > 1) expect(task.bytes).toBeLessThanOrEqual(chunkSize);
          }
          expect(seen).toEqual(groups.map((_, i) => i));
          // Two runs side by side would not fit one chunk (no needless tasks).
          for (let i = 1; i < tasks.length; i++) {
            expect((tasks[i - 1]?.bytes ?? 0) + (tasks[i]?.bytes ?? 0)).toBeGreaterThan(chunkSize);
          }
        },
      ),
    );
  });

  it('cuts a big JSON Lines object into ranges that say so', () => {
    const tasks = planTasks([object('a.jsonl', 25, { kind: 'ranges', format: 'jsonl' })], 10);
    expect(tasks.map((t) => t.slices.map((s) => [s.start, s.end, s.format]))).toEqual([
      [[0, 10, 'jsonl']],
      [[10, 20, 'jsonl']],
      [[20, 25, 'jsonl']],
    ]);
  });
});
