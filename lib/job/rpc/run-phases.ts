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
import type { Summary } from '../../contracts/summary.js';
import { finishCost } from '../../cost/job-cost.js';
import { emptyTally } from '../../cost/usage.js';
import { totalBytes } from '../../plan.js';
import { peakRssBytes } from '../../rss.js';
import { afterMap } from '../phases/after-map.js';
import { afterFinalize, afterReduce, reducedOf } from '../phases/after-reduce.js';
import { INLINE_MAX_DISTINCT } from '../phases/map-results.js';
import { planJob } from '../phases/plan-job.js';
import type { PhaseOptions } from '../phases/reduce-plan.js';
import { summaryOf } from '../phases/summary.js';
import {
  type JobContext,
  type JobDeps,
  type JobSpec,
  logPhase,
  report,
  startPhase,
} from './job-context.js';
import { runMapPhase } from './map-phase.js';
import { runFinalizePhase, runReducePhase } from './reduce-phase.js';

function phaseOptions(ctx: JobContext): PhaseOptions {
  const { spec } = ctx;
  return {
    partitions: ctx.partitions,
    concurrency: spec.concurrency,
    workPrefix: spec.workPrefix,
    bucket: spec.bucket,
    top: spec.top,
    minCount: spec.minCount,
    docFreq: spec.records?.docFreq === true,
    counts: spec.counts !== undefined,
    uri: (key) => ctx.deps.work.uri(key),
  };
}

export async function runJob(deps: JobDeps, spec: JobSpec): Promise<Summary> {
  const startedAt = spec.startedAt ?? performance.now();
  const bytes = totalBytes(spec.objects);
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
      : (spec.maxInlineDistinct ?? INLINE_MAX_DISTINCT),
  );
  const mapped = performance.now();
  let reduced = mapped;
  const options = phaseOptions(ctx);
  const target = spec.counts;
  // Writing the counts file is the last phase the progress shows.
  if (map.inline && reduce !== 'partitioned' && target) startPhase(ctx, 'finalize', 1);
  const next = await afterMap(map, { ...options, target, partition: reduce === 'partitioned' });
  let distinct: number;
  let kept: number;
  let top: Summary['top'];
  let reduceTasks = 0;
  let maxRssBytes = map.maxRssBytes;
  if (next.next === 'counted') {
    ({ distinct, kept, top } = next);
  } else {
    const results = await runReducePhase(ctx, next.requests);
    reduced = performance.now();
    const totals = reducedOf(results, map.tokens, spec.top);
    ({ distinct, kept, top } = totals);
    reduceTasks = totals.tasks;
    maxRssBytes = Math.max(maxRssBytes, totals.maxRssBytes);
    if (target) startPhase(ctx, 'finalize', 1);
    const written = await afterReduce(results, deps.work, { ...options, target });
    if (written.next === 'finalize' && target) {
      const parts = await runFinalizePhase(ctx, written.requests);
      maxRssBytes = Math.max(maxRssBytes, await afterFinalize(parts, deps.work, target));
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
    map: { ...map, records: map.recordSummary() },
    records: spec.records,
    distinct,
    minCount: spec.minCount,
    kept,
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
