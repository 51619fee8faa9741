/**
 * Planning (Hadoop's InputSplits): the objects of a job become map tasks from their
 * sizes alone, without reading them. A big object is cut into byte ranges; the
 * counters settle the tokens that straddle a boundary (see kernel/range-counter.ts).
 * Small objects are packed together into one task up to the chunk size, so ten
 * thousand small objects are a few dozen tasks, not ten thousand. A compressed object
 * (the driver looks at the first bytes of every object big enough to be cut) is one
 * task of its own, as is a WARC file; a Parquet file splits by row groups (split.kind).
 */
import { UsageError } from './errors.js';
import type { Format } from './records/formats.js';
import { GiB, KiB, MiB } from './sizes.js';

export const DEFAULT_CHUNK_SIZE = 16 * MiB;
/** Counts in a range must fit the kernel's 32-bit counters. */
export const MAX_CHUNK_SIZE = 1 * GiB;
/** More tasks than this is a mistake in the chunk size, not a plan. */
export const MAX_TASKS = 1_000_000;
/** Smallest chunk the automatic planner makes when it spreads a small input over workers. */
export const MIN_AUTO_CHUNK_SIZE = 256 * KiB;
/** A pack holds at most this many objects: each costs the task one read request. */
export const MAX_OBJECTS_PER_TASK = 256;
/**
 * The default chunk size doubles (from 16 MiB) until a job has at most this many ranges:
 * a terabyte is then some 15,000 tasks of 64 MiB, not 60,000 of 16 MiB.
 */
export const TARGET_JOB_TASKS = 20_000;
/**
 * ...but no further than this: a counter reads 256 MiB in seconds (Latin-script words
 * at 100+ MB/s) and still well inside its timeout at ICU's 3 MB/s (about 90 s of 300).
 */
export const MAX_AUTO_CHUNK_SIZE = 256 * MiB;

export interface ByteRange {
  index: number;
  /** First byte, inclusive. */
  start: number;
  /** Last byte, exclusive. */
  end: number;
}

/**
 * How a big object splits, from its first bytes (and a Parquet file's footer): whole
 * (compressed, or WARC), into byte ranges (text and JSON Lines: a token or a line
 * belongs to the range holding its first byte), or by row groups (Parquet: the bytes of
 * the counted column's chunk in each).
 */
export type Split =
  | { kind: 'whole' }
  | { kind: 'ranges'; format: 'text' | 'jsonl' }
  | { kind: 'rowGroups'; groups: readonly { start: number; end: number }[] };

/** An object of the job, as listed: nothing of its content is known but (maybe) how it splits. */
export interface SourceObject {
  key: string;
  /** For messages: a path or s3://bucket/key. */
  uri: string;
  size: number;
  etag: string;
  /** How it splits; looked at only for objects over the chunk size. */
  split?: Split;
}

/** What a map task counts of one object. */
export interface Slice {
  key: string;
  etag: string;
  /** The owned byte range: tokens that start in [start, end). */
  start: number;
  end: number;
  /** The whole object, decompressed first if it turns out to be gzip or zstd. */
  whole: boolean;
  /** The format, where the planner had to know it (ranges, row groups). */
  format?: Format;
  /** Parquet: the row groups [from, to); start and end span their column chunks. */
  rowGroups?: [number, number];
  /** The object's size, for a row-group slice (its footer is at the end). */
  size?: number;
}

export interface MapTaskPlan {
  index: number;
  slices: Slice[];
  /** Stored bytes the task owns. */
  bytes: number;
}

export function checkChunkSize(chunkSize: number): void {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new UsageError(`chunk size must be between 1 byte and 1GiB, got ${chunkSize}`);
  }
}

/** Splits [0, size) into consecutive ranges of `chunkSize` bytes (the last may be shorter). */
export function planRanges(size: number, chunkSize: number): ByteRange[] {
  if (!Number.isSafeInteger(size) || size < 0) throw new UsageError(`invalid object size: ${size}`);
  checkChunkSize(chunkSize);
  const count = Math.ceil(size / chunkSize);
  if (count > MAX_TASKS) {
    throw new UsageError(
      `chunk size ${chunkSize} would split ${size} bytes into ${count} ranges (at most ${MAX_TASKS})`,
    );
  }
  const ranges: ByteRange[] = [];
  for (let index = 0; index < count; index++) {
    const start = index * chunkSize;
    ranges.push({ index, start, end: Math.min(size, start + chunkSize) });
  }
  return ranges;
}

/** Whether the planner must know how `object` splits before planning it. */
export function needsPeek(object: { size: number }, chunkSize: number): boolean {
  return object.size > chunkSize;
}

/**
 * The map tasks for `objects`, in their order: ranges of each big plain object, one
 * task per big gzip object, and packs of consecutive small objects up to `chunkSize`
 * bytes. Empty objects hold no token and get no task.
 */
export function planTasks(objects: readonly SourceObject[], chunkSize: number): MapTaskPlan[] {
  checkChunkSize(chunkSize);
  const tasks: MapTaskPlan[] = [];
  let pack: MapTaskPlan | undefined;
  const push = (task: Omit<MapTaskPlan, 'index'>): MapTaskPlan => {
    if (tasks.length >= MAX_TASKS) {
      throw new UsageError(`chunk size ${chunkSize} would make more than ${MAX_TASKS} tasks`);
    }
    const planned = { index: tasks.length, ...task };
    tasks.push(planned);
    return planned;
  };
  for (const object of objects) {
    if (object.size === 0) continue;
    const whole = { key: object.key, etag: object.etag, start: 0, end: object.size, whole: true };
    if (needsPeek(object, chunkSize)) {
      if (object.split === undefined) {
        throw new Error(`planning ${object.uri}: how it splits must be known`);
      }
      pack = undefined;
      const { split } = object;
      if (split.kind === 'whole') push({ slices: [whole], bytes: object.size });
      else if (split.kind === 'ranges') {
        for (const range of planRanges(object.size, chunkSize)) {
          push({
            slices: [
              { ...whole, start: range.start, end: range.end, whole: false, format: split.format },
            ],
            bytes: range.end - range.start,
          });
        }
      } else {
        for (const [from, to] of groupRuns(split.groups, chunkSize)) {
          const start = (split.groups[from] as { start: number }).start;
          const end = (split.groups[to - 1] as { end: number }).end;
          push({
            slices: [
              {
                ...whole,
                start,
                end,
                whole: false,
                format: 'parquet',
                rowGroups: [from, to],
                size: object.size,
              },
            ],
            bytes: end - start,
          });
        }
      }
      continue;
    }
    if (
      pack === undefined ||
      pack.bytes + object.size > chunkSize ||
      pack.slices.length >= MAX_OBJECTS_PER_TASK
    ) {
      pack = push({ slices: [], bytes: 0 });
    }
    pack.slices.push(whole);
    pack.bytes += object.size;
  }
  return tasks;
}

/**
 * Consecutive runs [from, to) of `groups` of up to `chunkSize` bytes each (a group
 * bigger than that is a run of its own).
 */
export function groupRuns(
  groups: readonly { start: number; end: number }[],
  chunkSize: number,
): [number, number][] {
  const runs: [number, number][] = [];
  let from = 0;
  let bytes = 0;
  groups.forEach((g, i) => {
    const size = g.end - g.start;
    if (i > from && bytes + size > chunkSize) {
      runs.push([from, i]);
      from = i;
      bytes = 0;
    }
    bytes += size;
  });
  if (groups.length > from) runs.push([from, groups.length]);
  return runs;
}

/** The objects' bytes as stored. */
export function totalBytes(objects: readonly { size: number }[]): number {
  return objects.reduce((sum, o) => sum + o.size, 0);
}

/**
 * The chunk size used when the user gives none: about DEFAULT_CHUNK_SIZE, in a number
 * of chunks that divides evenly among `workers` (17 chunks on 2 workers would leave one
 * worker counting the last alone), or smaller so an input under `workers` x 16 MiB still
 * keeps every worker busy. A big input grows it instead (growChunkSize).
 */
export function autoChunkSize(size: number, workers: number): number {
  if (Math.ceil(size / DEFAULT_CHUNK_SIZE) > TARGET_JOB_TASKS) {
    return growChunkSize(size, DEFAULT_CHUNK_SIZE);
  }
  const lanes = Math.max(1, workers);
  const chunks = Math.max(1, Math.ceil(Math.ceil(size / DEFAULT_CHUNK_SIZE) / lanes)) * lanes;
  return Math.min(DEFAULT_CHUNK_SIZE, Math.max(MIN_AUTO_CHUNK_SIZE, Math.ceil(size / chunks)));
}

/**
 * The chunk size of a job over `size` bytes when none was asked: `base` doubled until the
 * input is at most TARGET_JOB_TASKS chunks, up to MAX_AUTO_CHUNK_SIZE (never below `base`).
 */
export function growChunkSize(size: number, base: number): number {
  let chunk = base;
  while (chunk < MAX_AUTO_CHUNK_SIZE && Math.ceil(size / chunk) > TARGET_JOB_TASKS) chunk *= 2;
  return Math.max(base, Math.min(chunk, MAX_AUTO_CHUNK_SIZE));
}
