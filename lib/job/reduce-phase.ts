/**
 * The reduce and finalize phases of a partitioned job under RPC coordination: the
 * requests of reduce-plan.ts through the task function, with bounded concurrency.
 */
import { mapLimit } from '../concurrency.js';
import type { ReduceResult, Shard, SpilledPart } from '../contracts.js';
import { invokeTask, type JobContext, report, startPhase } from './context.js';
import { type CountsTarget, concatenateParts, mergeIntoTarget } from './finalize.js';
import { finalizeRequestsFor, type PhaseOptions, reduceRequestsFor } from './reduce-plan.js';

function phaseOptions(ctx: JobContext): PhaseOptions {
  const { spec } = ctx;
  return {
    partitions: ctx.partitions,
    concurrency: spec.concurrency,
    workPrefix: spec.workPrefix,
    bucket: spec.bucket,
    top: spec.top,
    counts: spec.counts !== undefined,
    uri: (key) => ctx.deps.work.uri(key),
  };
}

export async function runReducePhase(
  ctx: JobContext,
  parts: readonly SpilledPart[],
): Promise<ReduceResult[]> {
  const requests = reduceRequestsFor(phaseOptions(ctx), parts);
  startPhase(ctx, 'reduce', requests.length);
  return mapLimit(requests, ctx.spec.concurrency * 2, async (request) => {
    const [from, to] = request.partitions;
    const result = await invokeTask(
      ctx,
      request,
      `reducing partitions ${from}-${to - 1} of ${ctx.partitions}`,
    );
    ctx.progress.tasksDone++;
    report(ctx);
    return result;
  });
}

/**
 * Writes the counts file from the shards: a big output in parallel finalize tasks (a
 * range of output order each) whose parts are concatenated, a small one merged here.
 * Returns the peak memory of the finalize tasks (0 when there were none).
 */
export async function runFinalizePhase(
  ctx: JobContext,
  shards: readonly Shard[],
  target: CountsTarget,
): Promise<number> {
  const { deps, spec } = ctx;
  const requests = finalizeRequestsFor(phaseOptions(ctx), shards);
  startPhase(ctx, 'finalize', Math.max(1, requests.length));
  if (requests.length === 0) {
    await mergeIntoTarget(deps.work, shards, target);
    return 0;
  }
  const results = await mapLimit(requests, spec.concurrency, async (request) => {
    const result = await invokeTask(ctx, request, `finalize task ${request.index}`);
    ctx.progress.tasksDone++;
    report(ctx);
    return result;
  });
  await concatenateParts(
    deps.work,
    results.map((r) => r.part),
    target,
  );
  return Math.max(...results.map((r) => r.maxRssBytes));
}
