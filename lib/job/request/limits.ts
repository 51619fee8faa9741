/**
 * Limits at the door: what a request to the orchestrator may ask for, checked before
 * anything is written. Small ranges only cost invocations, a million tasks is a typo in
 * the chunk size, and a response is no place for a million words.
 */
import { UsageError } from '../../errors.js';
import { MAX_CHUNK_SIZE, planTasks, type SourceObject } from '../../plan.js';
import { formatSize, KiB } from '../../sizes.js';

/**
 * Tasks a job may plan. What sets it is the work that grows with the tasks inside one
 * invocation: a reduce task reads its partitions from every spilled map output (100,000
 * ranged reads, 32 at a time at ~15 ms, take about 50 s of a counter's 300 s), and the
 * start sends every map task (10,000 message batches, 16 at a time, about 15 s). Memory
 * no longer grows with the tasks anywhere (the index of spilled outputs, grouped commits).
 * At the default chunk size (up to 256 MiB) that is 25 TiB of splittable text per job;
 * a crawl's 30,000 gzip files are 30,000 tasks.
 */
export const MAX_JOB_TASKS = 100_000;
/** The smallest chunk size a request may ask for. */
export const MIN_REQUEST_CHUNK_SIZE = 64 * KiB;

export function checkChunkSizeRequest(chunkSize: number): void {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < MIN_REQUEST_CHUNK_SIZE) {
    throw new UsageError(
      `chunkSize ${formatSize(chunkSize)} is below the minimum of ${formatSize(MIN_REQUEST_CHUNK_SIZE)}: small ranges only cost invocations`,
    );
  }
  if (chunkSize > MAX_CHUNK_SIZE) {
    throw new UsageError(
      `chunkSize ${formatSize(chunkSize)} is above the maximum of ${formatSize(MAX_CHUNK_SIZE)}`,
    );
  }
}

/** S3's longest key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

/**
 * Refuses an input whose output or bookkeeping keys would be longer than S3 takes
 * (output/REL.report.html, jobs/publish/…, jobs/latest/…): S3 would refuse them only
 * after the counting.
 */
export function checkDerivedKeys(uri: string, keys: readonly string[]): void {
  const longest = keys.reduce((a, b) => (Buffer.byteLength(b) > Buffer.byteLength(a) ? b : a), '');
  const bytes = Buffer.byteLength(longest);
  if (bytes > MAX_KEY_BYTES) {
    throw new UsageError(
      `${uri}: its name is too long to count: the key ${longest.slice(0, 40)}… it needs would be ${bytes} bytes, over S3's ${MAX_KEY_BYTES}`,
    );
  }
}

/**
 * Refuses a job of more than MAX_JOB_TASKS tasks. Counted before any object is read:
 * every big object as if it were cut into ranges (a gzip one is a single task, so this
 * never counts fewer tasks than the plan makes).
 */
export function checkTaskCount(
  uri: string,
  objects: readonly SourceObject[],
  chunkSize: number,
): void {
  let tasks = 0;
  for (const o of objects) if (o.size > chunkSize) tasks += Math.ceil(o.size / chunkSize);
  // Ranges alone may already be too many; else plan (no allocation of millions of ranges).
  if (tasks <= MAX_JOB_TASKS) {
    tasks = planTasks(
      objects.map((o) => ({ ...o, split: { kind: 'ranges', format: 'text' } as const })),
      chunkSize,
    ).length;
  }
  if (tasks > MAX_JOB_TASKS) {
    throw new UsageError(
      `${uri}: ${tasks} tasks of ${formatSize(chunkSize)} is over the limit of ${MAX_JOB_TASKS} per job: ask for a bigger chunkSize, or count the input in several jobs`,
    );
  }
}
