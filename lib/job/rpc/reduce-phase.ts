/**
 * The reduce and finalize phases of a partitioned job under RPC coordination: the
 * requests the phase steps planned (phases/), through the task function with bounded
 * concurrency.
 */
import { mapLimit } from '../../concurrency.js';
import type {
  FinalizeRequest,
  FinalizeResult,
  ReduceRequest,
  ReduceResult,
} from '../../contracts/tasks.js';
import { invokeForResult, type JobContext, report, startPhase } from './job-context.js';

export async function runReducePhase(
  ctx: JobContext,
  requests: readonly ReduceRequest[],
): Promise<ReduceResult[]> {
  startPhase(ctx, 'reduce', requests.length);
  return mapLimit(requests, ctx.spec.concurrency * 2, async (request) => {
    const [from, to] = request.partitions;
    const result = await invokeForResult(
      ctx,
      request,
      `reducing partitions ${from}-${to - 1} of ${ctx.partitions}`,
    );
    ctx.progress.tasksDone++;
    report(ctx);
    return result;
  });
}

export async function runFinalizePhase(
  ctx: JobContext,
  requests: readonly FinalizeRequest[],
): Promise<FinalizeResult[]> {
  startPhase(ctx, 'finalize', requests.length);
  return mapLimit(requests, ctx.spec.concurrency, async (request) => {
    const result = await invokeForResult(ctx, request, `finalize task ${request.index}`);
    ctx.progress.tasksDone++;
    report(ctx);
    return result;
  });
}
