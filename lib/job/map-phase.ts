/**
 * The map phase under RPC coordination: every map task through the task function, at
 * most twice the concurrency in flight, each result merged as it arrives (MapResults).
 * On a worker pool with `holdCounts` the threads keep their tasks' counts and hand them
 * back once each at the end (held-counts.ts).
 */
import { randomUUID } from 'node:crypto';
import { mapLimit } from '../concurrency.js';
import type { CollectRequest, HeldCounts, MapResult } from '../contracts.js';
import { JobFailedError, messageOf } from '../errors.js';
import { mapSpillPrefix } from '../keys.js';
import type { MapTaskPlan } from '../plan.js';
import { invokeTask, type JobContext, report } from './context.js';
import { describeTask, MapResults, mapRequestFor } from './map-results.js';

export async function runMapPhase(
  ctx: JobContext,
  tasks: readonly MapTaskPlan[],
  inlineLimitBytes: number,
  maxInlineDistinct: number,
): Promise<MapResults> {
  const { deps, spec, chunkSize } = ctx;
  const hold = spec.holdCounts && deps.runner.holdsCounts ? randomUUID() : undefined;
  const results = new MapResults({
    work: deps.work,
    workPrefix: spec.workPrefix,
    partitions: ctx.partitions,
    chunkSize,
    maxInlineDistinct,
  });

  const merge = async (task: MapTaskPlan, result: MapResult): Promise<void> => {
    await results.add(result, describeTask(deps.sources, task));
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
    const request = {
      ...mapRequestFor({
        task,
        mode: spec.mode,
        bucket: spec.bucket,
        workPrefix: spec.workPrefix,
        partitions: ctx.partitions,
        inlineLimitBytes,
        expectedDistinct: results.expectedDistinct,
        chunkSize,
      }),
      ...(hold && { hold }),
    };
    const result = await invokeTask(ctx, request, `counting ${describeTask(deps.sources, task)}`);
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
    try {
      await mapping;
    } finally {
      await merging;
    }
    if (mergeFailure) throw mergeFailure.error;
  } catch (error) {
    // The threads' tables of a failed job are dropped, not left in a pool that lives on.
    if (hold)
      await deps.runner
        .invokeEach?.(deps.taskFunction, collectRequest(ctx, hold, 0, true))
        .catch(() => undefined);
    throw error;
  }
  if (hold) await collectHeld(ctx, results, hold, tasks, inlineLimitBytes);
  return results;
}

function collectRequest(
  ctx: JobContext,
  hold: string,
  inlineLimitBytes: number,
  discard = false,
): CollectRequest {
  return {
    type: 'collect',
    hold,
    spill: {
      prefix: mapSpillPrefix(ctx.spec.workPrefix, 'held'),
      inlineLimitBytes,
      partitions: ctx.partitions,
    },
    ...(discard && { discard }),
  };
}

/** Asks every worker for the counts it held, checking that they cover every task once. */
async function collectHeld(
  ctx: JobContext,
  results: MapResults,
  hold: string,
  tasks: readonly MapTaskPlan[],
  inlineLimitBytes: number,
): Promise<void> {
  const { deps } = ctx;
  const request = collectRequest(ctx, hold, inlineLimitBytes);
  let replies: HeldCounts[];
  try {
    replies = (await deps.runner.invokeEach?.(deps.taskFunction, request)) as HeldCounts[];
  } catch (error) {
    throw new JobFailedError(`collecting the counts the workers held failed: ${messageOf(error)}`, {
      cause: error,
    });
  }
  const seen = new Set<number>();
  for (const reply of replies) for (const index of reply.tasks) seen.add(index);
  const lost = tasks.filter((t) => !seen.has(t.index)).map((t) => t.index);
  if (lost.length > 0) {
    // A thread that died between tasks took its table with it.
    throw new JobFailedError(
      `the counts of map task(s) ${lost.slice(0, 10).join(', ')} were lost with their worker thread`,
    );
  }
  for (const reply of replies) await results.addHeld(reply);
}
