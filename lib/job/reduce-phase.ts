/**
 * The reduce and finalize phases of a partitioned job: group the P partitions by the
 * bytes the map tasks wrote into reduce tasks; then merge their sorted shards into the
 * counts file, in parallel finalize tasks when it is big.
 */
import { mapLimit } from '../concurrency.js';
import {
  type FinalizeRequest,
  FinalizeResultSchema,
  type ReduceRequest,
  type ReduceResult,
  ReduceResultSchema,
  type Shard,
  type SpilledPart,
} from '../contracts.js';
import { JobFailedError } from '../errors.js';
import { finalPartKey, shardKey } from '../keys.js';
import { chooseReduceTasks, groupPartitions } from '../reduce/partition.js';
import { invokeTask, type JobContext, report, startPhase } from './context.js';
import {
  type CountsTarget,
  concatenateParts,
  FINALIZE_MIN_BYTES,
  mergeIntoTarget,
  planFinalize,
} from './finalize.js';

/** Bytes of every partition across `parts`. */
function partitionSizes(ctx: JobContext, parts: readonly SpilledPart[]): number[] {
  const { partitions } = ctx;
  const sizes = new Array<number>(partitions).fill(0);
  for (const part of parts) {
    if (part.offsets.length !== partitions + 1) {
      throw new JobFailedError(
        `${ctx.deps.work.uri(part.key)} has ${part.offsets.length - 1} partitions, the job ${partitions}`,
      );
    }
    for (let p = 0; p < partitions; p++)
      sizes[p] =
        (sizes[p] as number) + (part.offsets[p + 1] as number) - (part.offsets[p] as number);
  }
  return sizes;
}

export async function runReducePhase(
  ctx: JobContext,
  parts: readonly SpilledPart[],
): Promise<ReduceResult[]> {
  const { spec, partitions } = ctx;
  const sizes = partitionSizes(ctx, parts);
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
  startPhase(ctx, 'reduce', requests.length);
  return mapLimit(requests, spec.concurrency * 2, async (request) => {
    const [from, to] = request.partitions;
    const result = await invokeTask(
      ctx,
      request,
      ReduceResultSchema,
      `reducing partitions ${from}-${to - 1} of ${partitions}`,
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
  const bytes = shards.reduce((sum, s) => sum + s.bytes, 0);
  const tasks = Math.min(spec.concurrency, Math.floor(bytes / FINALIZE_MIN_BYTES));
  startPhase(ctx, 'finalize', Math.max(1, tasks));
  if (tasks < 2) {
    await mergeIntoTarget(deps.work, shards, target);
    return 0;
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
  const results = await mapLimit(requests, spec.concurrency, async (request) => {
    const result = await invokeTask(
      ctx,
      request,
      FinalizeResultSchema,
      `finalize task ${request.index}`,
    );
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
