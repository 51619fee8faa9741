/**
 * The map phase under RPC coordination: every map task through the task function, at
 * most twice the concurrency in flight, each result merged as it arrives (MapResults).
 * A backend may run the phase its own way (JobDeps.mapPhase: the embedded worker pool
 * keeps each thread's counts and hands them back once); this module does not know how.
 */
import { mapLimit } from '../../concurrency.js';
import type { MapResult } from '../../contracts/tasks.js';
import { JobFailedError, messageOf } from '../../errors.js';
import { mapSpillPrefix } from '../../keys.js';
import type { MapTaskPlan } from '../../plan.js';
import { describeTask, MapResults, mapRequestFor } from '../phases/map-results.js';
import { invokeTask, type JobContext, type MapPhaseRun, report } from './job-context.js';

export async function runMapPhase(
  ctx: JobContext,
  tasks: readonly MapTaskPlan[],
  inlineLimitBytes: number,
  maxInlineDistinct: number,
): Promise<MapResults> {
  const { deps, spec, chunkSize } = ctx;
  const results = new MapResults({
    work: deps.work,
    workPrefix: spec.workPrefix,
    partitions: ctx.partitions,
    chunkSize,
    maxInlineDistinct,
  });
  const run: MapPhaseRun = {
    tasks,
    results,
    requestOf: (task) =>
      mapRequestFor({
        task,
        mode: spec.mode,
        records: spec.records,
        bucket: spec.bucket,
        workPrefix: spec.workPrefix,
        partitions: ctx.partitions,
        inlineLimitBytes,
        expectedDistinct: results.expectedDistinct,
        chunkSize,
      }),
    spillOf: (name) => ({
      prefix: mapSpillPrefix(spec.workPrefix, name),
      inlineLimitBytes,
      partitions: ctx.partitions,
    }),
    invoke: (request, what) => invokeTask(ctx, request, what),
    finished: (task) => {
      ctx.progress.tasksDone++;
      ctx.progress.bytesDone += task.bytes;
      report(ctx);
    },
    describe: (task) => describeTask(deps.sources, task),
    concurrency: spec.concurrency,
  };
  await (deps.mapPhase ?? eachThroughTheTaskFunction)(run);
  return results;
}

/** The map phase as every backend can run it: one invocation per task. */
async function eachThroughTheTaskFunction(run: MapPhaseRun): Promise<void> {
  // The schemas (and zod) load only where results cross a process boundary.
  const [{ MapResultSchema }, { parsePayload }] = await Promise.all([
    import('../../contracts/tasks.js'),
    import('../../contracts/parse.js'),
  ]);
  // Results are merged off the dispatch path, one at a time: a lane sends its next task
  // before this thread merges the result it just got.
  let merging: Promise<void> = Promise.resolve();
  let mergeFailure: { error: unknown } | undefined;
  // Results waiting to be merged: bounded, or parsed partials would pile up in memory
  // whenever tasks answer faster than this thread merges.
  let pending = 0;
  const mapping = mapLimit(run.tasks, run.concurrency * 2, async (task) => {
    // A partial that could not be merged fails the job: count nothing more.
    if (mergeFailure) throw mergeFailure.error;
    const what = run.describe(task);
    const reply = await run.invoke(run.requestOf(task), `counting ${what}`);
    const result: MapResult = parsePayload(MapResultSchema, reply, `result of counting ${what}`);
    pending++;
    merging = merging
      .then(async () => {
        if (mergeFailure) return;
        await run.results.add(result, what);
        run.finished(task);
      })
      .finally(() => {
        pending--;
      })
      .catch((error: unknown) => {
        // Recorded here, so no rejection goes unhandled while other tasks run.
        mergeFailure ??= {
          error: new JobFailedError(`merging the counts of ${what} failed: ${messageOf(error)}`, {
            cause: error,
          }),
        };
      });
    if (pending > run.concurrency) await merging;
  });
  try {
    await mapping;
  } finally {
    await merging;
  }
  if (mergeFailure) throw mergeFailure.error;
}
