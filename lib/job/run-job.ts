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
 * merges the shards into the counts file. Then no process holds every distinct word.
 */
import { mapLimit } from '../concurrency.js';
import type { Summary } from '../contracts.js';
import { finishCost } from '../cost/job-cost.js';
import { emptyTally } from '../cost/usage.js';
import { JobFailedError, messageOf } from '../errors.js';
import {
  autoChunkSize,
  checkChunkSize,
  type MapTaskPlan,
  needsPeek,
  planTasks,
  type SourceObject,
} from '../plan.js';
import type { ObjectStore } from '../ports.js';
import { sortTable, topOfTable } from '../reduce/merge-partials.js';
import { mergeTop } from '../reduce/order.js';
import { choosePartitions } from '../reduce/partition.js';
import { sortedLines } from '../reduce/sort-entries.js';
import { peakRssBytes } from '../rss.js';
import {
  type JobContext,
  type JobDeps,
  type JobSpec,
  logPhase,
  report,
  startPhase,
} from './context.js';
import { runMapPhase } from './map-phase.js';
import { INLINE_MAX_DISTINCT } from './map-results.js';
import { runFinalizePhase, runReducePhase } from './reduce-phase.js';
import { checkReduced } from './reduce-plan.js';
import { topOf } from './reduce-task.js';
import { summaryOf } from './summary.js';

export type { JobDeps, JobProgress, JobSpec } from './context.js';
export { INLINE_MAX_DISTINCT } from './map-results.js';

/** Objects whose first bytes are read at once, to tell gzip from text. */
const PEEK_CONCURRENCY = 16;

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

export interface JobPlan {
  chunkSize: number;
  tasks: MapTaskPlan[];
  /** The job's hash partitions P. */
  partitions: number;
}

/** The map tasks of a job over `objects` (their first bytes read where gzip must be known). */
export async function planJob(
  store: ObjectStore,
  objects: readonly SourceObject[],
  options: { chunkSize?: number; concurrency: number },
): Promise<JobPlan> {
  const bytes = objects.reduce((sum, o) => sum + o.size, 0);
  const chunkSize = options.chunkSize ?? autoChunkSize(bytes, options.concurrency);
  checkChunkSize(chunkSize);
  const tasks = planTasks(await peekGzip(store, objects, chunkSize), chunkSize);
  return { chunkSize, tasks, partitions: choosePartitions(bytes) };
}

/** Runs the job; spilled partials, shards and parts stay under `spec.workPrefix` for the caller to remove. */
export async function runJob(deps: JobDeps, spec: JobSpec): Promise<Summary> {
  const startedAt = spec.startedAt ?? performance.now();
  const bytes = spec.objects.reduce((sum, o) => sum + o.size, 0);
  const { chunkSize, tasks, partitions } = await planJob(deps.sources, spec.objects, spec);
  await spec.onPlan?.({ chunkSize, partitions, tasks });
  const planned = performance.now();

  const ctx: JobContext = {
    deps,
    spec,
    chunkSize,
    partitions,
    progress: { phase: 'map', tasksDone: 0, tasks: tasks.length, bytesDone: 0, bytes },
    usage: emptyTally(),
  };
  logPhase(ctx);
  const retriesBefore = deps.runner.retries ?? 0;
  report(ctx);
  const reduce = spec.reduce ?? 'auto';
  const map = await runMapPhase(
    ctx,
    tasks,
    { inline: Number.MAX_SAFE_INTEGER, partitioned: 0, auto: spec.inlineLimitBytes }[reduce],
    reduce === 'inline'
      ? Number.POSITIVE_INFINITY
      : (spec.inlineMaxDistinct ?? INLINE_MAX_DISTINCT),
  );
  const mapped = performance.now();
  let reduced = mapped;

  let distinct: number;
  let top: Summary['top'];
  let reduceTasks = 0;
  let maxRssBytes = map.maxRssBytes;
  if (map.inline && reduce !== 'partitioned') {
    distinct = map.table.size;
    // Without a counts file only the top words need an order.
    const sorted = spec.counts ? sortTable(map.table) : topOfTable(map.table, spec.top);
    top = topOf(sortedLines(sorted, { limit: spec.top }));
    if (spec.counts) {
      startPhase(ctx, 'finalize', 1);
      const { store, key } = spec.counts;
      await store
        .put(key, sortedLines(sorted), { contentType: 'text/tab-separated-values' })
        .catch((error: unknown) => {
          throw new JobFailedError(`writing ${store.uri(key)} failed: ${messageOf(error)}`, {
            cause: error,
          });
        });
    }
  } else {
    await map.spillInline();
    const results = await runReducePhase(ctx, map.parts);
    reduced = performance.now();
    reduceTasks = results.length;
    checkReduced(results, map.tokens);
    distinct = results.reduce((n, r) => n + r.distinct, 0);
    top = mergeTop(
      results.map((r) => r.top),
      spec.top,
    );
    for (const r of results) maxRssBytes = Math.max(maxRssBytes, r.maxRssBytes);
    if (spec.counts) {
      const shards = results.flatMap((r) => (r.shard ? [r.shard] : []));
      try {
        maxRssBytes = Math.max(maxRssBytes, await runFinalizePhase(ctx, shards, spec.counts));
      } catch (error) {
        throw new JobFailedError(
          `writing ${spec.counts.store.uri(spec.counts.key)} failed: ${messageOf(error)}`,
          { cause: error },
        );
      }
    }
  }

  ctx.usage.retries += (deps.runner.retries ?? 0) - retriesBefore;
  return summaryOf({
    cost: deps.cost && finishCost(deps.cost, ctx.usage),
    source: spec.source,
    objects: spec.objects,
    mode: spec.mode,
    concurrency: spec.concurrency,
    chunkSize,
    mapTasks: tasks.length,
    partitions,
    reduceTasks,
    map,
    distinct,
    top,
    maxRssBytes: Math.max(maxRssBytes, peakRssBytes()),
    elapsedMs: performance.now() - startedAt,
    phasesMs: {
      plan: Math.round(planned - startedAt),
      map: Math.round(mapped - planned),
      reduce: Math.round(reduced - mapped),
      publish: Math.round(performance.now() - reduced),
    },
  });
}
