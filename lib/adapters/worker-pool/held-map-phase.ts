/**
 * The embedded backend's map phase: each worker thread keeps the counts of all its map
 * tasks in one table (held-counts.ts) and hands it back once, at the end of the phase.
 * A thread that dies between tasks takes its table with it: the job fails naming the
 * tasks whose counts were lost (on one machine a dead thread is a bug or an
 * out-of-memory, not weather).
 */
import { randomUUID } from 'node:crypto';
import { mapLimit } from '../../concurrency.js';
import { JobFailedError, messageOf } from '../../errors.js';
import type { MapPhaseRun, MapPhaseRunner } from '../../job/rpc/job-context.js';
import type { CollectRequest, HeldCounts, HeldTotals } from './held-counts.js';
import type { WorkerPoolRunner } from './runner.js';

export function heldCountsMapPhase(pool: WorkerPoolRunner, functionName: string): MapPhaseRunner {
  return async (run: MapPhaseRun) => {
    const hold = randomUUID();
    const collect = (discard: boolean): CollectRequest => ({
      type: 'collect',
      hold,
      spill: run.spillOf('held'),
      ...(discard && { discard }),
    });
    try {
      await mapLimit(run.tasks, run.concurrency * 2, async (task) => {
        const request = { type: 'hold', hold, request: run.requestOf(task) };
        const totals = (await run.invoke(request, `counting ${run.describe(task)}`)) as HeldTotals;
        run.results.addTotals(totals);
        run.finished(task);
      });
    } catch (error) {
      // The threads' tables of a failed job are dropped, not left in a pool that lives on.
      await pool.invokeEach(functionName, collect(true)).catch(() => undefined);
      throw error;
    }
    let replies: HeldCounts[];
    try {
      replies = (await pool.invokeEach(functionName, collect(false))) as HeldCounts[];
    } catch (error) {
      throw new JobFailedError(
        `collecting the counts the workers held failed: ${messageOf(error)}`,
        { cause: error },
      );
    }
    const seen = new Set<number>();
    for (const reply of replies) for (const index of reply.tasks) seen.add(index);
    const lost = run.tasks.filter((t) => !seen.has(t.index)).map((t) => t.index);
    if (lost.length > 0) {
      throw new JobFailedError(
        `the counts of map task(s) ${lost.slice(0, 10).join(', ')} were lost with their worker thread`,
      );
    }
    for (const reply of replies) {
      await run.results.addCounts(reply, 'the counts held by a worker thread');
    }
  };
}
