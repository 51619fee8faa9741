/**
 * The map task: counts its slices (a byte range of a big object, or whole objects:
 * small ones packed together, or one gzip object) into one table, and hands the
 * counts back inline or, when they are too big to travel, hash-partitioned in the
 * work store for the reduce tasks.
 */
import { randomUUID } from 'node:crypto';
import { mapLimit } from '../../concurrency.js';
import {
  addRecordTotals,
  emptyRecordTotals,
  type RangeLines,
  type RecordTotals,
} from '../../contracts/records.js';
import type { MapRequest, MapResult, SpilledPart } from '../../contracts/tasks.js';
import { type Feeder, TaskCounts } from '../../kernel/task-counts.js';
import { mapSpillPart } from '../../keys.js';
import type { Slice } from '../../plan.js';
import type { ObjectStore } from '../../ports.js';
import { peakRssBytes } from '../../rss.js';
import {
  countJsonlRange,
  countRowGroups,
  countsOnHost,
  countTextLines,
  countWhole,
  type SliceRead,
} from './record-slices.js';
import { countRange } from './slice-reader.js';

export interface MapStores {
  /** Where the objects are. */
  source: ObjectStore;
  /** Where spilled counts go. */
  work: ObjectStore;
}

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

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** What a map task counted: its totals, the parts it spilled, and the table it ended with. */
export interface SliceCounts {
  tokens: number;
  invalidSequences: number;
  longTokens: number;
  bytesScanned: number;
  /** Documents counted under --doc-freq (0 otherwise). */
  documents: number;
  uncompressedBytes: number;
  /** Distinct keys of the last table (all of them if nothing spilled). */
  distinct: number;
  spilled: SpilledPart[];
  /** The table the task ended with (a fresh one after each spill). */
  counts: TaskCounts;
  /** What its records came to, when it read a format with records. */
  records?: RecordTotals;
  rangeLines?: RangeLines;
}

type Stat = 'invalidSequences' | 'longTokens' | 'bytesScanned' | 'documents';
const STATS: readonly Stat[] = ['invalidSequences', 'longTokens', 'bytesScanned', 'documents'];

/**
 * Counts the task's slices into `into` (a table the caller keeps across tasks) or a fresh
 * table, spilling a table that fills up to the work store as a part of the task's
 * output. The totals are what this task added, whatever the table held before.
 */
export async function countSlices(
  stores: MapStores,
  request: MapRequest,
  options: { maxDistinct?: number; into?: TaskCounts } = {},
): Promise<SliceCounts> {
  const maxDistinct = options.maxDistinct ?? MAX_TASK_DISTINCT;
  const owned = request.slices.reduce((sum, s) => sum + (s.end - s.start), 0);
  const segmenter = request.records?.segmenter;
  const docFreq = request.records?.docFreq === true;
  const fresh = () => new TaskCounts(owned, request.expectedDistinct, segmenter, docFreq);
  let counts = options.into ?? fresh();
  // A kept table already has other tasks' counts: this task reports what it added.
  const distinctBefore = counts.distinct();
  let tokens = -counts.tokens();
  const stats = { invalidSequences: 0, longTokens: 0, bytesScanned: 0, documents: 0 };
  for (const k of STATS) stats[k] = -counts[k];
  const spilled: SpilledPart[] = [];
  // Part keys are this attempt's own: a retried task (its first attempt still running)
  // splits its counts differently and must not overwrite the parts it answered with.
  const attempt = randomUUID().slice(0, 8);
  const spill = async (): Promise<void> => {
    const full = counts;
    counts = fresh();
    tokens += full.tokens();
    for (const k of STATS) stats[k] += full[k];
    const key = mapSpillPart(request.spill.prefix, `${attempt}-${spilled.length}`);
    spilled.push(await writePartitioned(stores.work, full, key, request.spill.partitions));
  };
  let failed = false;
  // Counters share one TaskCounts; a spill swaps in a fresh one for the pieces after it.
  const feeder: Feeder = {
    counts: () => counts,
    afterPiece: () => {
      // Once a slice failed the task fails: the others stop at their next piece.
      if (failed) throw new Error('another slice of this task failed');
      const full = counts.distinct() > maxDistinct || counts.heldBytes() > MAX_TASK_TABLE_BYTES;
      return full ? spill() : undefined;
    },
  };
  const reads = await mapLimit(request.slices, WHOLE_OBJECTS_IN_FLIGHT, async (slice) => {
    try {
      return await readSlice(stores.source, slice, request, feeder);
    } catch (error) {
      failed = true;
      throw error;
    }
  });
  let uncompressedBytes = 0;
  let records: RecordTotals | undefined;
  let rangeLines: RangeLines | undefined;
  // In slice order: the first invalid record is the first slice's.
  for (const read of reads) {
    uncompressedBytes += read.bytes;
    if (read.records) records = addRecordTotals(records ?? emptyRecordTotals(), read.records);
    rangeLines ??= read.rangeLines;
  }
  tokens += counts.tokens();
  for (const k of STATS) stats[k] += counts[k];
  const distinct = spilled.length > 0 ? counts.distinct() : counts.distinct() - distinctBefore;
  return {
    tokens,
    ...stats,
    uncompressedBytes,
    distinct,
    spilled,
    counts,
    ...(records && { records }),
    ...(rangeLines && { rangeLines }),
  };
}

/** Counts one slice the way its format reads. */
async function readSlice(
  source: ObjectStore,
  slice: Slice,
  request: MapRequest,
  feeder: Feeder,
): Promise<SliceRead> {
  const { mode, records } = request;
  if (slice.whole) return countWhole(source, slice, mode, feeder, records);
  if (slice.rowGroups) return countRowGroups(source, slice, mode, feeder, records);
  if (slice.format === 'jsonl') return countJsonlRange(source, slice, mode, feeder, records);
  // n-grams live in lines: a text range owns whole lines, as a JSON Lines range does.
  if (countsOnHost(records)) return countTextLines(source, slice, mode, feeder, records ?? {});
  return { bytes: await countRange(source, slice, mode, feeder) };
}

/** The map task as the task function runs it: its counts inline, or spilled. */
export async function runMapTask(
  stores: MapStores,
  request: MapRequest,
  options: { maxDistinct?: number } = {},
): Promise<MapResult> {
  const started = performance.now();
  const { counts, spilled, ...totals } = await countSlices(stores, request, options);
  const finish = (result: Pick<MapResult, 'entries' | 'spilled'>): MapResult => ({
    type: 'map',
    index: request.index,
    ...totals,
    ...result,
    elapsedMs: performance.now() - started,
    maxRssBytes: peakRssBytes(),
  });
  const limit = request.spill.inlineLimitBytes;
  const lines = spilled.length === 0 ? linesWithin(counts, limit) : undefined;
  if (lines) {
    // Escapes only make JSON longer than the lines.
    const entries = decoder.decode(lines);
    if (Buffer.byteLength(JSON.stringify(entries)) <= limit) return finish({ entries });
  }
  if (counts.distinct() > 0 || spilled.length === 0) {
    const key = mapSpillPart(request.spill.prefix, `${randomUUID().slice(0, 8)}-last`);
    spilled.push(await writePartitioned(stores.work, counts, key, request.spill.partitions));
  }
  return finish({ spilled });
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
