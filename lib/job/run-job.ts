/**
 * A counting job, driven by one process (the RPC coordination): plan the map tasks,
 * run them through the task function with bounded concurrency, then reduce. The CLI
 * runs it on the embedded backend, the orchestrator Lambda on S3 + Lambda, unchanged.
 *
 * Reduce, two ways. Small partials come back inline and the driver merges them in one
 * count table: for a small vocabulary that is faster than any shuffle. When a partial
 * is too big to travel, or the driver's table outgrows INLINE_MAX_DISTINCT, the job
 * goes partitioned: every map output is in the work store in P hash partitions, R
 * reduce tasks each merge a run of partitions into a sorted shard, and finalize
 * streams the k-way merge of the shards into the counts file. Then no process holds
 * every distinct word.
 */
import { mapLimit } from '../concurrency.js';
import {
  type FinalizeRequest,
  type FinalizeResult,
  FinalizeResultSchema,
  type MapRequest,
  type MapResult,
  MapResultSchema,
  parsePayload,
  type ReduceRequest,
  type ReduceResult,
  ReduceResultSchema,
  type Shard,
  type SpilledPart,
  type Summary,
} from '../contracts.js';
import { JobFailedError, messageOf } from '../errors.js';
import { TOKEN_CAP_BYTES } from '../kernel/range-counter.js';
import { finalPartKey, mapSpillPart, mapSpillPrefix, shardKey } from '../keys.js';
import {
  autoChunkSize,
  checkChunkSize,
  type MapTaskPlan,
  needsPeek,
  planTasks,
  type SourceObject,
} from '../plan.js';
import type { FunctionRunner, ObjectStore } from '../ports.js';
import { CountTable } from '../reduce/count-table.js';
import { sortTable } from '../reduce/merge-partials.js';
import { mergeTop } from '../reduce/order.js';
import {
  choosePartitions,
  chooseReduceTasks,
  groupPartitions,
  partitionLines,
} from '../reduce/partition.js';
import { sortedLines } from '../reduce/sort-entries.js';
import { peakRssBytes } from '../rss.js';
import type { Mode } from '../tokenize.js';
import {
  type CountsTarget,
  concatenateParts,
  FINALIZE_MIN_BYTES,
  mergeIntoTarget,
  planFinalize,
} from './finalize.js';
import { topOf } from './reduce-task.js';

/** Distinct words the driver merges inline before the job goes partitioned. */
export const INLINE_MAX_DISTINCT = 500_000;
/** Objects whose first bytes are read at once, to tell gzip from text. */
const PEEK_CONCURRENCY = 16;

export type JobPhase = 'map' | 'reduce' | 'finalize';

export interface JobProgress {
  phase: JobPhase;
  tasksDone: number;
  tasks: number;
  /** Map phase: stored bytes of the finished tasks, and of all. */
  bytesDone: number;
  bytes: number;
}

export interface JobDeps {
  /** Where the job's objects are. */
  sources: ObjectStore;
  /** Scratch for spilled partials and shards, under `JobSpec.workPrefix`. */
  work: ObjectStore;
  runner: FunctionRunner;
  /** The name the runner knows the task function by (map and reduce tasks). */
  taskFunction: string;
  onProgress?: (progress: JobProgress) => void;
}

export interface JobSpec {
  /** The input as the summary names it: a URI, and a version that changes with any object. */
  source: { uri: string; etag: string };
  /** The objects, listed (sizes and versions; content unread). */
  objects: readonly SourceObject[];
  mode: Mode;
  /** Bytes per map task; chosen from the size and concurrency when absent. */
  chunkSize?: number;
  /** Tasks in flight at once. */
  concurrency: number;
  top: number;
  /** The bucket task requests name (S3 backends). */
  bucket?: string;
  /** Work-store keys of this job start with this. */
  workPrefix: string;
  /** A map result whose JSON is bigger than this spills to the work store. */
  inlineLimitBytes: number;
  /** Where the counts file goes; absent when only the summary is wanted. */
  counts?: CountsTarget;
  /** `performance.now()` when the job was asked for; elapsedMs counts from it. */
  startedAt?: number;
  /** For measuring: merge inline (counters never spill) or always partition. */
  reduce?: 'auto' | 'inline' | 'partitioned';
  /** Distinct words the driver merges inline before it spills them (INLINE_MAX_DISTINCT). */
  inlineMaxDistinct?: number;
  /** Called once the tasks are planned, before any runs. */
  onPlan?: (plan: {
    chunkSize: number;
    partitions: number;
    tasks: readonly MapTaskPlan[];
  }) => Promise<void> | void;
  /** Called as each map task finishes. */
  onMapTask?: (task: MapTaskPlan, result: MapResult) => void;
}

function describeTask(sources: ObjectStore, task: MapTaskPlan): string {
  const [first] = task.slices;
  if (!first) return `map task ${task.index}`;
  const uri = sources.uri(first.key);
  if (task.slices.length > 1) return `${uri} and ${task.slices.length - 1} more object(s)`;
  return first.whole ? uri : `${uri} (bytes ${first.start}-${first.end - 1})`;
}

/** Reads the first bytes of objects too big for one task: gzip ones are not split. */
async function peekGzip(
  store: ObjectStore,
  objects: readonly SourceObject[],
  chunkSize: number,
): Promise<SourceObject[]> {
  return mapLimit(objects, PEEK_CONCURRENCY, async (object) => {
    if (!needsPeek(object, chunkSize)) return object;
    const head: number[] = [];
    for await (const piece of store.readRange(object.key, {
      start: 0,
      end: 2,
      ifMatch: object.etag,
    })) {
      head.push(...piece);
    }
    return { ...object, gzip: head[0] === 0x1f && head[1] === 0x8b };
  });
}

/** Runs the job; spilled partials and shards stay under `spec.workPrefix` for the caller to remove. */
export async function runJob(deps: JobDeps, spec: JobSpec): Promise<Summary> {
  const startedAt = spec.startedAt ?? performance.now();
  const { sources, work, runner } = deps;
  const bytes = spec.objects.reduce((sum, o) => sum + o.size, 0);
  const chunkSize = spec.chunkSize ?? autoChunkSize(bytes, spec.concurrency);
  checkChunkSize(chunkSize);
  const objects = await peekGzip(sources, spec.objects, chunkSize);
  const tasks = planTasks(objects, chunkSize);
  const partitions = choosePartitions(bytes);
  await spec.onPlan?.({ chunkSize, partitions, tasks });
  const planned = performance.now();
  const mode = spec.reduce ?? 'auto';
  const inlineLimitBytes =
    mode === 'inline'
      ? Number.MAX_SAFE_INTEGER
      : mode === 'partitioned'
        ? 0
        : spec.inlineLimitBytes;
  const maxInlineDistinct =
    mode === 'inline' ? Number.POSITIVE_INFINITY : (spec.inlineMaxDistinct ?? INLINE_MAX_DISTINCT);

  const progress: JobProgress = {
    phase: 'map',
    tasksDone: 0,
    tasks: tasks.length,
    bytesDone: 0,
    bytes,
  };
  const report = () => deps.onProgress?.({ ...progress });
  report();

  const totals = {
    tokens: 0,
    invalidSequences: 0,
    longTokens: 0,
    bytesScanned: 0,
    uncompressedBytes: 0,
  };
  let maxRssBytes = peakRssBytes();
  let expectedDistinct = 0;
  const parts: SpilledPart[] = [];
  // Inline partials are merged here; past maxInlineDistinct the table is spilled like a
  // map output (a combiner) and the job goes partitioned.
  let inline = new CountTable();
  let driverSpills = 0;
  const spillInline = async (): Promise<void> => {
    if (inline.size === 0) return;
    const table = inline;
    inline = new CountTable();
    const lines = concat(table.lines());
    const { bytes: partitioned, offsets } = partitionLines(lines, partitions);
    const key = mapSpillPart(mapSpillPrefix(spec.workPrefix, `driver-${driverSpills++}`), 0);
    parts.push({ key, offsets });
    await work.put(key, partitioned, { contentType: 'text/tab-separated-values' });
  };

  // Results are merged off the dispatch path, one at a time: a lane sends its next task
  // before this thread merges the result it just got.
  let merging: Promise<void> = Promise.resolve();
  let mergeFailure: { error: unknown } | undefined;
  const merge = async (task: MapTaskPlan, result: MapResult): Promise<void> => {
    for (const k of [
      'tokens',
      'invalidSequences',
      'longTokens',
      'bytesScanned',
      'uncompressedBytes',
    ] as const)
      totals[k] += result[k];
    maxRssBytes = Math.max(maxRssBytes, result.maxRssBytes);
    // Per byte counted, so a small pack does not size the table of a full range.
    expectedDistinct = Math.max(
      expectedDistinct,
      Math.ceil((result.distinct / Math.max(1, task.bytes)) * chunkSize),
    );
    if (result.spilled) parts.push(...result.spilled);
    if (result.entries !== undefined && result.entries.length > 0) {
      inline.addLines(
        encoder.encode(result.entries),
        `inline counts of ${describeTask(sources, task)}`,
      );
      if (inline.size > maxInlineDistinct) await spillInline();
    }
    spec.onMapTask?.(task, result);
    progress.tasksDone++;
    progress.bytesDone += task.bytes;
    report();
  };
  const mapping = mapLimit(tasks, spec.concurrency * 2, async (task) => {
    // A partial that could not be merged fails the job: count nothing more.
    if (mergeFailure) throw mergeFailure.error;
    const request: MapRequest = {
      type: 'map',
      bucket: spec.bucket,
      index: task.index,
      mode: spec.mode,
      slices: task.slices,
      expectedDistinct: Math.ceil((expectedDistinct * task.bytes) / chunkSize),
      spill: {
        prefix: mapSpillPrefix(spec.workPrefix, task.index),
        inlineLimitBytes,
        partitions,
      },
    };
    let result: MapResult;
    try {
      const reply = await runner.invoke(deps.taskFunction, request);
      result = parsePayload(MapResultSchema, reply, 'map result');
    } catch (error) {
      throw new JobFailedError(
        `counting ${describeTask(sources, task)} failed: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
    merging = merging
      .then(() => (mergeFailure ? undefined : merge(task, result)))
      .catch((error: unknown) => {
        // Recorded here, so no rejection goes unhandled while other tasks run.
        mergeFailure ??= {
          error: new JobFailedError(
            `merging the counts of ${describeTask(sources, task)} failed: ${messageOf(error)}`,
            { cause: error },
          ),
        };
      });
  });
  try {
    await mapping;
  } finally {
    await merging;
  }
  if (mergeFailure) throw mergeFailure.error;
  const mapped = performance.now();
  let reduced = mapped;

  let distinct: number;
  let top: Summary['top'];
  let reduceTasks = 0;
  if (parts.length === 0 && mode !== 'partitioned') {
    const sorted = sortTable(inline);
    distinct = inline.size;
    top = topOf(sortedLines(sorted, { limit: spec.top }));
    if (spec.counts) {
      progress.phase = 'finalize';
      report();
      await spec.counts.store.put(spec.counts.key, sortedLines(sorted), {
        contentType: 'text/tab-separated-values',
      });
    }
  } else {
    await spillInline();
    const results = await reduce(deps, spec, partitions, parts, progress, report);
    reduced = performance.now();
    reduceTasks = results.length;
    const sum = results.reduce((n, r) => n + r.tokens, 0);
    if (sum !== totals.tokens) {
      throw new JobFailedError(
        `the reduce tasks hold ${sum} words but the map tasks counted ${totals.tokens}: a partial was lost`,
      );
    }
    distinct = results.reduce((sum, r) => sum + r.distinct, 0);
    top = mergeTop(
      results.map((r) => r.top),
      spec.top,
    );
    maxRssBytes = Math.max(maxRssBytes, ...results.map((r) => r.maxRssBytes));
    if (spec.counts) {
      const shards = results.flatMap((r) => (r.shard ? [r.shard] : []));
      try {
        await finalize(deps, spec, shards, spec.counts, progress, report);
      } catch (error) {
        throw new JobFailedError(
          `writing ${spec.counts.store.uri(spec.counts.key)} failed: ${messageOf(error)}`,
          { cause: error },
        );
      }
    }
  }

  const summary: Summary = {
    source: { uri: spec.source.uri, bytes, etag: spec.source.etag },
    sources: { objects: spec.objects.length, bytes },
    mode: spec.mode,
    totalWords: totals.tokens,
    distinctWords: distinct,
    chunks: tasks.length,
    top,
    elapsedMs: Math.round(performance.now() - startedAt),
    invalidSequences: totals.invalidSequences,
    longTokens: totals.longTokens,
    stats: {
      chunkSize,
      concurrency: spec.concurrency,
      tokenCapBytes: TOKEN_CAP_BYTES,
      bytesScanned: totals.bytesScanned,
      uncompressedBytes: totals.uncompressedBytes,
      mapTasks: tasks.length,
      partitions,
      reduceTasks,
      maxRssBytes: Math.max(maxRssBytes, peakRssBytes()),
      phasesMs: {
        plan: Math.round(planned - startedAt),
        map: Math.round(mapped - planned),
        reduce: Math.round(reduced - mapped),
        publish: Math.round(performance.now() - reduced),
      },
    },
  };
  return summary;
}

/** The reduce phase: group the partitions by bytes, one reduce task per group. */
async function reduce(
  deps: JobDeps,
  spec: JobSpec,
  partitions: number,
  parts: readonly SpilledPart[],
  progress: JobProgress,
  report: () => void,
): Promise<ReduceResult[]> {
  const sizes = new Array<number>(partitions).fill(0);
  for (const part of parts) {
    if (part.offsets.length !== partitions + 1) {
      throw new JobFailedError(
        `${deps.work.uri(part.key)} has ${part.offsets.length - 1} partitions, the job ${partitions}`,
      );
    }
    for (let p = 0; p < partitions; p++)
      sizes[p] =
        (sizes[p] as number) + (part.offsets[p + 1] as number) - (part.offsets[p] as number);
  }
  const total = sizes.reduce((a, b) => a + b, 0);
  const groups = groupPartitions(sizes, chooseReduceTasks(total, partitions, spec.concurrency));
  const requests: ReduceRequest[] = groups.map(([from, to], index) => ({
    type: 'reduce',
    bucket: spec.bucket,
    index,
    partitions: [from, to],
    inputs: parts
      .filter((part) => (part.offsets[to] as number) > (part.offsets[from] as number))
      .map((part) => ({ key: part.key, offsets: part.offsets.slice(from, to + 1) })),
    shardKey: spec.counts ? shardKey(spec.workPrefix, index) : undefined,
    top: spec.top,
  }));
  Object.assign(progress, { phase: 'reduce', tasksDone: 0, tasks: requests.length });
  report();
  return mapLimit(requests, spec.concurrency * 2, async (request) => {
    const [from, to] = request.partitions;
    let result: ReduceResult;
    try {
      const reply = await deps.runner.invoke(deps.taskFunction, request);
      result = parsePayload(ReduceResultSchema, reply, 'reduce result');
    } catch (error) {
      throw new JobFailedError(
        `reducing partitions ${from}-${to - 1} of ${partitions} failed: ${messageOf(error)}`,
        { cause: error },
      );
    }
    progress.tasksDone++;
    report();
    return result;
  });
}

/**
 * Finalize: a big output in parallel finalize tasks (a range of output order each) whose
 * parts are concatenated; a small one merged here.
 */
async function finalize(
  deps: JobDeps,
  spec: JobSpec,
  shards: readonly Shard[],
  target: CountsTarget,
  progress: JobProgress,
  report: () => void,
): Promise<void> {
  const bytes = shards.reduce((sum, s) => sum + s.bytes, 0);
  const tasks = Math.min(spec.concurrency, Math.floor(bytes / FINALIZE_MIN_BYTES));
  Object.assign(progress, { phase: 'finalize', tasksDone: 0, tasks: Math.max(1, tasks) });
  report();
  if (tasks < 2) {
    await mergeIntoTarget(deps.work, shards, target);
    return;
  }
  const requests: FinalizeRequest[] = planFinalize(shards, tasks).map((plan, index) => ({
    type: 'finalize',
    bucket: spec.bucket,
    index,
    shards: plan.shards.filter((w) => w.end > w.start),
    from: plan.from && { count: plan.from.count, word: plan.from.word },
    to: plan.to && { count: plan.to.count, word: plan.to.word },
    partKey: finalPartKey(spec.workPrefix, index),
  }));
  const parts = await mapLimit(requests, spec.concurrency, async (request) => {
    let result: FinalizeResult;
    try {
      const reply = await deps.runner.invoke(deps.taskFunction, request);
      result = parsePayload(FinalizeResultSchema, reply, 'finalize result');
    } catch (error) {
      throw new JobFailedError(`finalize task ${request.index} failed: ${messageOf(error)}`, {
        cause: error,
      });
    }
    progress.tasksDone++;
    report();
    return result.part;
  });
  await concatenateParts(deps.work, parts, target);
}

const encoder = new TextEncoder();

function concat(pieces: Iterable<Uint8Array>): Uint8Array {
  const list = [...pieces];
  const out = new Uint8Array(list.reduce((sum, p) => sum + p.length, 0));
  let o = 0;
  for (const p of list) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
