import { describe, expect, it } from 'vitest';
import { checkTaskCount, MAX_JOB_TASKS } from '../../lib/job/request/limits.js';
import {
  DEFAULT_CHUNK_SIZE,
  growChunkSize,
  planTasks,
  type SourceObject,
  totalBytes,
} from '../../lib/plan.js';
import { KiB, MiB } from '../../lib/sizes.js';

const objects = (n: number, size: number, prefix = 'crawl/'): SourceObject[] =>
  Array.from({ length: n }, (_, i) => {
    const key = `${prefix}${String(i).padStart(6, '0')}.warc.wet.gz`;
    return { key, uri: `s3://b/${key}`, size, etag: `"e${i}"` };
  });

/** The chunk size a request that asks none is given (admit.ts). */
const defaultFor = (o: readonly SourceObject[]) => growChunkSize(totalBytes(o), DEFAULT_CHUNK_SIZE);

describe('the task limit at the door', () => {
  it('accepts a terabyte of text at the default chunk size, in some 15,000 tasks', () => {
    const terabyte = objects(1, 1e12, 'big/');
    const chunk = defaultFor(terabyte);
    expect(chunk).toBe(64 * MiB);
    expect(() => checkTaskCount('s3://b/big/', terabyte, chunk)).not.toThrow();
    const tasks = planTasks(
      terabyte.map((o) => ({ ...o, split: { kind: 'ranges', format: 'text' } as const })),
      chunk,
    );
    expect(tasks).toHaveLength(14_902);
  });

  it("accepts a crawl's 30,000 gzip files, one task each, at the default chunk size", () => {
    // Common Crawl's WET files: about 30,000 objects of about 150 MB.
    const crawl = objects(30_000, 150e6);
    const chunk = defaultFor(crawl);
    expect(() => checkTaskCount('s3://b/crawl/', crawl, chunk)).not.toThrow();
    // Each is bigger than... or packed below the chunk: the real plan after the peek.
    const planned = planTasks(
      crawl.map((o) => (o.size > chunk ? { ...o, split: { kind: 'whole' } as const } : o)),
      chunk,
    );
    expect(planned.length).toBeLessThanOrEqual(MAX_JOB_TASKS);
    expect(planned.length).toBeGreaterThanOrEqual(30_000 / 256);
  });

  it('refuses a million tiny ranges, naming the count and the limit', () => {
    const big = objects(1, 1e12, 'big/');
    expect(() => checkTaskCount('s3://b/big/', big, 64 * KiB)).toThrow(
      /s3:\/\/b\/big\/: 15258790 tasks of 64KiB is over the limit of 100000 per job/,
    );
  });

  it('takes exactly the limit and refuses one more', () => {
    const at = objects(1, MAX_JOB_TASKS * 64 * KiB, 'edge/');
    expect(() => checkTaskCount('s3://b/edge/', at, 64 * KiB)).not.toThrow();
    const over = objects(1, MAX_JOB_TASKS * 64 * KiB + 1, 'edge/');
    expect(() => checkTaskCount('s3://b/edge/', over, 64 * KiB)).toThrow(/100001 tasks/);
  });
});
