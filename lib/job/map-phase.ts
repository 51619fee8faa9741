/**
 * The map phase of a job: every map task through the task function, at most twice the
 * concurrency in flight, and each result merged as it arrives. Inline counts go into
 * the driver's table; when that outgrows `inlineMaxDistinct` it is written out like a
 * spilled map output (a combiner), so the driver never holds the whole vocabulary.
 */
import { mapLimit } from '../concurrency.js';
import {
  type MapRequest,
  type MapResult,
  MapResultSchema,
  type SpilledPart,
} from '../contracts.js';
import { JobFailedError, messageOf } from '../errors.js';
import { mapSpillPart, mapSpillPrefix } from '../keys.js';
import type { MapTaskPlan } from '../plan.js';
import type { ObjectStore } from '../ports.js';
import { CountTable } from '../reduce/count-table.js';
import { partitionLines } from '../reduce/partition.js';
import { invokeTask, type JobContext, report } from './context.js';

/** Distinct words the driver merges inline before the job goes partitioned. */
export const INLINE_MAX_DISTINCT = 500_000;

export interface MapOutcome {
  tokens: number;
  invalidSequences: number;
  longTokens: number;
  bytesScanned: number;
  uncompressedBytes: number;
  maxRssBytes: number;
  /** Map outputs in the work store (the driver's own spills included). */
  parts: SpilledPart[];
  /** What was merged inline and not spilled (yet). */
  inline: InlineCounts;
}

const encoder = new TextEncoder();

export function describeTask(sources: ObjectStore, task: MapTaskPlan): string {
  const [first] = task.slices;
  if (!first) return `map task ${task.index}`;
  const uri = sources.uri(first.key);
  if (task.slices.length > 1) return `${uri} and ${task.slices.length - 1} more object(s)`;
  return first.whole ? uri : `${uri} (bytes ${first.start}-${first.end - 1})`;
}

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

/** Counts inline, merged in the driver, written out like a map output past a size. */
export class InlineCounts {
  table = new CountTable();
  private spills = 0;

  constructor(
    private readonly ctx: JobContext,
    private readonly parts: SpilledPart[],
    private readonly maxDistinct: number,
  ) {}

  async add(entries: string, what: string): Promise<void> {
    this.table.addLines(encoder.encode(entries), what);
    if (this.table.size > this.maxDistinct) await this.spill();
  }

  /** Writes the table hash-partitioned to the work store and starts an empty one. */
  async spill(): Promise<void> {
    if (this.table.size === 0) return;
    const full = this.table;
    this.table = new CountTable();
    const { bytes, offsets } = partitionLines(concat(full.lines()), this.ctx.partitions);
    const prefix = mapSpillPrefix(this.ctx.spec.workPrefix, `driver-${this.spills++}`);
    const key = mapSpillPart(prefix, 0);
    this.parts.push({ key, offsets });
    await this.ctx.deps.work.put(key, bytes, { contentType: 'text/tab-separated-values' });
  }
}

export async function runMapPhase(
  ctx: JobContext,
  tasks: readonly MapTaskPlan[],
  inlineLimitBytes: number,
  maxInlineDistinct: number,
): Promise<MapOutcome> {
  const { deps, spec, chunkSize } = ctx;
  const outcome = {
    tokens: 0,
    invalidSequences: 0,
    longTokens: 0,
    bytesScanned: 0,
    uncompressedBytes: 0,
    maxRssBytes: 0,
    parts: [] as SpilledPart[],
  };
  const inline = new InlineCounts(ctx, outcome.parts, maxInlineDistinct);
  // Distinct words per byte seen so far, so later tasks' tables start big enough.
  let expectedDistinct = 0;

  const merge = async (task: MapTaskPlan, result: MapResult): Promise<void> => {
    for (const k of [
      'tokens',
      'invalidSequences',
      'longTokens',
      'bytesScanned',
      'uncompressedBytes',
    ] as const)
      outcome[k] += result[k];
    outcome.maxRssBytes = Math.max(outcome.maxRssBytes, result.maxRssBytes);
    // Per byte of text (a gzip task's stored bytes would overstate it many times).
    expectedDistinct = Math.max(
      expectedDistinct,
      Math.ceil((result.distinct / Math.max(1, result.uncompressedBytes)) * chunkSize),
    );
    if (result.spilled) outcome.parts.push(...result.spilled);
    if (result.entries !== undefined && result.entries.length > 0) {
      await inline.add(result.entries, `inline counts of ${describeTask(deps.sources, task)}`);
    }
    spec.onMapTask?.(task, result);
    ctx.progress.tasksDone++;
    ctx.progress.bytesDone += task.bytes;
    report(ctx);
  };

  // Results are merged off the dispatch path, one at a time: a lane sends its next task
  // before this thread merges the result it just got.
  let merging: Promise<void> = Promise.resolve();
  let mergeFailure: { error: unknown } | undefined;
  // Results waiting to be merged: bounded, or parsed partials would pile up in memory
  // whenever tasks answer faster than this thread merges.
  let pending = 0;
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
        partitions: ctx.partitions,
      },
    };
    const result = await invokeTask(
      ctx,
      request,
      MapResultSchema,
      `counting ${describeTask(deps.sources, task)}`,
    );
    pending++;
    merging = merging
      .then(() => (mergeFailure ? undefined : merge(task, result)))
      .finally(() => {
        pending--;
      })
      .catch((error: unknown) => {
        // Recorded here, so no rejection goes unhandled while other tasks run.
        mergeFailure ??= {
          error: new JobFailedError(
            `merging the counts of ${describeTask(deps.sources, task)} failed: ${messageOf(error)}`,
            { cause: error },
          ),
        };
      });
    if (pending > spec.concurrency) await merging;
  });
  try {
    await mapping;
  } finally {
    await merging;
  }
  if (mergeFailure) throw mergeFailure.error;
  return { ...outcome, inline };
}
