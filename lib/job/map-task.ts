/**
 * The map task: counts its slices (a byte range of a big object, or whole objects:
 * small ones packed together, or one gzip object) into one table, and hands the
 * counts back inline or, when they are too big to travel, hash-partitioned in the
 * work store for the reduce tasks.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { mapLimit } from '../concurrency.js';
import type { MapRequest, MapResult, SpilledPart } from '../contracts.js';
import { CorruptInputError } from '../errors.js';
import { RangeCounter, readStartFor } from '../kernel/range-counter.js';
import { TaskCounts } from '../kernel/task-counts.js';
import { mapSpillPart } from '../keys.js';
import type { Slice } from '../plan.js';
import type { ObjectStore } from '../ports.js';
import { peakRssBytes } from '../rss.js';
import type { Mode } from '../tokenize.js';
import type { HeldTable } from './held-counts.js';

export interface MapStores {
  /** Where the objects are. */
  source: ObjectStore;
  /** Where spilled counts go. */
  work: ObjectStore;
}

/** Pieces read while finishing the last token past the range's end are kept small. */
const OVERRUN_PIECE_SIZE = 64 * 1024;
const MAX_OVERRUN_SPAN = 8 * 1024 * 1024;
/** Whole objects of a pack read at once: each is a request with its own latency. */
const WHOLE_OBJECTS_IN_FLIGHT = 8;
/**
 * Distinct keys a task holds before it spills them and starts a fresh table. A range
 * never gets near it; a gzip object, whose text has no size limit, may.
 */
export const MAX_TASK_DISTINCT = 4_000_000;
/**
 * Bytes of kernel memory (hash slots and long keys) a task holds before it spills: a
 * wasm instance has 4 GiB at most, and a vocabulary of long tokens fills it long
 * before it reaches MAX_TASK_DISTINCT keys.
 */
const MAX_TASK_TABLE_BYTES = 1024 * 1024 * 1024;
const GZIP_MAGIC = [0x1f, 0x8b] as const;

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

export async function runMapTask(
  stores: MapStores,
  request: MapRequest,
  options: {
    maxDistinct?: number;
    /** Inline counts as UTF-8 bytes (`lines`), for a caller in this process, not JSON. */
    binary?: boolean;
    /** Count into this table, kept by the caller across tasks (MapRequest.hold). */
    held?: HeldTable;
  } = {},
): Promise<MapResult> {
  const started = performance.now();
  const maxDistinct = options.maxDistinct ?? MAX_TASK_DISTINCT;
  const owned = request.slices.reduce((sum, s) => sum + (s.end - s.start), 0);
  const fresh = () => new TaskCounts(owned, request.expectedDistinct);
  const { held } = options;
  let counts = held?.counts ?? fresh();
  // A held table already has other tasks' counts: this task reports what it added.
  const before = {
    tokens: counts.tokens(),
    distinct: counts.distinct(),
    invalidSequences: counts.invalidSequences,
    longTokens: counts.longTokens,
    bytesScanned: counts.bytesScanned,
  };
  const spilled: SpilledPart[] = [];
  // Part keys are this attempt's own: a retried task (its first attempt still running)
  // splits its counts differently and must not overwrite the parts it answered with.
  const attempt = randomUUID().slice(0, 8);
  let tokens = -before.tokens;
  const stats = {
    invalidSequences: -before.invalidSequences,
    longTokens: -before.longTokens,
    bytesScanned: -before.bytesScanned,
  };
  // Counters share one TaskCounts; a spill swaps in a fresh one for the pieces after it.
  /** Writes `full` hash-partitioned as the next part of the task's output. */
  const writePart = async (full: TaskCounts): Promise<void> => {
    const key = mapSpillPart(request.spill.prefix, `${attempt}-${spilled.length}`);
    spilled.push(await writePartitioned(stores.work, full, key, request.spill.partitions));
  };
  const spill = async (): Promise<void> => {
    const full = counts;
    counts = fresh();
    tokens += full.tokens();
    for (const k of ['invalidSequences', 'longTokens', 'bytesScanned'] as const)
      stats[k] += full[k];
    await writePart(full);
  };
  let failed = false;
  const feeder = {
    counts: () => counts,
    afterPiece: () => {
      // Once a slice failed the task fails: the others stop at their next piece.
      if (failed) throw new Error('another slice of this task failed');
      const full = counts.distinct() > maxDistinct || counts.heldBytes() > MAX_TASK_TABLE_BYTES;
      return full ? spill() : undefined;
    },
  };
  let uncompressedBytes = 0;
  await mapLimit(request.slices, WHOLE_OBJECTS_IN_FLIGHT, async (slice) => {
    try {
      // Awaited first: `total += await …` would read the total before another slice adds to it.
      const counted = slice.whole
        ? await countWhole(stores.source, slice, request.mode, feeder)
        : await countRange(stores.source, slice, request.mode, feeder);
      uncompressedBytes += counted;
    } catch (error) {
      failed = true;
      throw error;
    }
  });

  tokens += counts.tokens();
  for (const k of ['invalidSequences', 'longTokens', 'bytesScanned'] as const)
    stats[k] += counts[k];
  const base = {
    type: 'map' as const,
    index: request.index,
    tokens,
    distinct: spilled.length > 0 ? counts.distinct() : counts.distinct() - before.distinct,
    ...stats,
    uncompressedBytes,
  };
  if (held) {
    held.counts = counts;
    held.tasks.push(request.index);
    return finish({ ...base, ...(spilled.length > 0 ? { spilled } : { held: true as const }) });
  }
  const limit = request.spill.inlineLimitBytes;
  const lines = spilled.length === 0 ? linesWithin(counts, limit) : undefined;
  if (lines && options.binary) return finish({ ...base, lines: lines as Uint8Array<ArrayBuffer> });
  if (lines) {
    // Escapes only make JSON longer than the lines.
    const entries = decoder.decode(lines);
    if (Buffer.byteLength(JSON.stringify(entries)) <= limit) return finish({ ...base, entries });
  }
  if (counts.distinct() > 0 || spilled.length === 0) await writePart(counts);
  return finish({ ...base, spilled });

  function finish(result: Omit<MapResult, 'elapsedMs' | 'maxRssBytes'>): MapResult {
    return {
      ...result,
      elapsedMs: performance.now() - started,
      maxRssBytes: peakRssBytes(),
    } as MapResult;
  }
}

/** The counts' lines when they fit in `limit` bytes; undefined when they do not. */
export function linesWithin(counts: TaskCounts, limit: number): Uint8Array | undefined {
  // A line is at least 4 bytes: a table clearly too big is not rendered to find out.
  if (counts.distinct() * 4 > limit) return undefined;
  const lines = counts.lines();
  return lines.length <= limit ? lines : undefined;
}

/** Writes `counts` hash-partitioned under `key` of the work store, as a map output part. */
export async function writePartitioned(
  work: ObjectStore,
  counts: TaskCounts,
  key: string,
  partitions: number,
): Promise<SpilledPart> {
  const { bytes, offsets } = counts.partitioned(partitions);
  await work.put(key, bytes, { contentType: 'text/tab-separated-values' });
  return { key, offsets };
}

interface Feeder {
  /** The counts to add to now (a spill replaces them). */
  counts(): TaskCounts;
  /** Called after each piece: spills when the table is full. */
  afterPiece(): Promise<void> | undefined;
}

/** Counts the tokens that start in [start, end) of a plain object; returns the owned bytes. */
async function countRange(
  store: ObjectStore,
  slice: Slice,
  mode: Mode,
  feeder: Feeder,
): Promise<number> {
  const { start, end } = slice;
  const counter = new RangeCounter(mode, start, end, feeder.counts());
  const read = { ifMatch: slice.etag };
  // Retarget and feed in one synchronous step: a spill by another slice in between
  // would otherwise swap the counts out from under this piece.
  const feed = async (piece: Uint8Array) => {
    counter.retarget(feeder.counts());
    counter.feed(piece);
    await feeder.afterPiece();
  };
  for await (const piece of store.readRange(slice.key, {
    start: readStartFor(start),
    end,
    ...read,
  })) {
    await feed(piece);
    if (counter.done) break;
  }
  // Past the end, read only until the last owned token ends: bounded requests (64 KiB,
  // doubling up to 8 MiB for a long token) rather than one read to the object's end.
  let from = end;
  let span = OVERRUN_PIECE_SIZE;
  while (!counter.done) {
    let got = 0;
    for await (const piece of store.readRange(slice.key, {
      start: from,
      end: from + span,
      ...read,
    })) {
      got += piece.length;
      await feed(piece);
      if (counter.done) break;
    }
    if (got === 0) break; // the object ended
    from += got;
    span = Math.min(span * 2, MAX_OVERRUN_SPAN);
  }
  counter.retarget(feeder.counts());
  counter.endInput();
  return end - start;
}

/**
 * Counts a whole object, decompressing it on the way when it starts with the gzip magic
 * bytes (whatever its name; concatenated gzip members are one stream). Returns the bytes
 * the kernel saw.
 */
async function countWhole(
  store: ObjectStore,
  slice: Slice,
  mode: Mode,
  feeder: Feeder,
): Promise<number> {
  // The whole object is the range: every token in it is owned.
  const counter = new RangeCounter(mode, 0, Number.MAX_SAFE_INTEGER, feeder.counts());
  let fed = 0;
  const feed = async (piece: Uint8Array) => {
    fed += piece.length;
    counter.retarget(feeder.counts());
    counter.feed(piece);
    await feeder.afterPiece();
  };
  const pieces = store
    .readRange(slice.key, { start: 0, ifMatch: slice.etag })
    [Symbol.asyncIterator]();
  try {
    await countStream(store, slice, pieces, feed);
  } finally {
    // A failure (corrupt gzip, a spill that could not be written) leaves the read open.
    await pieces.return?.();
  }
  counter.retarget(feeder.counts());
  counter.endInput();
  return fed;
}

/** Feeds the object's bytes, through gunzip when they start with the gzip magic bytes. */
async function countStream(
  store: ObjectStore,
  slice: Slice,
  pieces: AsyncIterator<Uint8Array>,
  feed: (piece: Uint8Array) => Promise<void>,
): Promise<void> {
  // Enough of the start to recognise gzip (a piece may be a single byte).
  let head = new Uint8Array(0);
  let ended = false;
  while (head.length < GZIP_MAGIC.length) {
    const next = await pieces.next();
    if (next.done) {
      ended = true;
      break;
    }
    const joined = new Uint8Array(head.length + next.value.length);
    joined.set(head);
    joined.set(next.value, head.length);
    head = joined;
  }
  const rest = async function* () {
    if (head.length > 0) yield head;
    if (ended) return;
    for (;;) {
      const next = await pieces.next();
      if (next.done) return;
      yield next.value;
    }
  };
  if (head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) {
    try {
      await pipeline(
        Readable.from(rest()),
        createGunzip({ chunkSize: 256 * 1024 }),
        async (stream) => {
          for await (const chunk of stream) await feed(chunk as Uint8Array);
        },
      );
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (!code.startsWith('Z_')) throw error;
      throw new CorruptInputError(
        `${store.uri(slice.key)}: not a valid gzip stream (${(error as Error).message})`,
        { cause: error },
      );
    }
  } else {
    for await (const piece of rest()) await feed(piece);
  }
}
