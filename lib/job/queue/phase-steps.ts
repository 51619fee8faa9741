/**
 * What the task that completes a phase of a queued job does next, under the next phase's
 * lease, with the phase steps both drivers share (phases/): after the map phase, counted
 * (publish) or the reduce tasks sent; after the reduce phase, counted or the finalize
 * tasks sent; after finalize, the parts concatenated; then publish. Each step may run
 * again from the start (its holder died and its message came back), so each is
 * idempotent: same keys, same contents, duplicates of sent tasks find their commits.
 */

import type { Mapped, QueuedJob, TaskPhase } from '../../contracts/queue.js';
import {
  FinalizeResultSchema,
  MapResultSchema,
  ReduceResultSchema,
} from '../../contracts/tasks.js';
import {
  addUsage,
  emptyTally,
  mergeTally,
  type TaskUsage,
  type UsageTally,
} from '../../cost/usage.js';
import { JobFailedError } from '../../errors.js';
import type { JobLedger } from '../ledger/attempt-ledger.js';
import { afterMap } from '../phases/after-map.js';
import { afterFinalize, afterReduce, reducedOf } from '../phases/after-reduce.js';
import { MapResults } from '../phases/map-results.js';
import type { PhaseOptions } from '../phases/reduce-plan.js';
import { TASK_FUNCTION } from '../phases/summary.js';
import { nowOf, type QueueDeps, updateLedger } from './deps.js';
import { publishQueued } from './publish-queued.js';
import { startTasks } from './send-tasks.js';

/** Starting the next phase, measured from the start of it (the work of no task). */
export type StartingUsage = (() => TaskUsage) | undefined;

/** The phase that follows `phase`, whose lease the task completing `phase` takes. */
export const nextPhase = { map: 'reduce', reduce: 'finalize', finalize: 'publish' } as const;

/**
 * The job's use so far: what the last phase record carried, its tasks' (`tasks`), and this
 * invocation's work starting the next phase (part of an invocation counted already).
 */
function usageSoFar(
  before: UsageTally | undefined,
  tasks: UsageTally,
  starting: StartingUsage,
): UsageTally | undefined {
  if (!starting) return undefined;
  const tally = mergeTally(mergeTally(emptyTally(), before ?? emptyTally()), tasks);
  addUsage(tally, TASK_FUNCTION, starting(), 0);
  return tally;
}

/** What a phase's tasks used, added up. */
function tasksUsage(results: readonly { usage?: TaskUsage }[]): UsageTally {
  const tally = emptyTally();
  for (const result of results) if (result.usage) addUsage(tally, TASK_FUNCTION, result.usage);
  return tally;
}

function phaseOptions(deps: QueueDeps, ledger: JobLedger, job: QueuedJob): PhaseOptions {
  return {
    partitions: job.partitions,
    concurrency: job.concurrency,
    workPrefix: ledger.prefix,
    bucket: job.bucket,
    top: job.top,
    minCount: job.minCount,
    docFreq: job.records?.docFreq === true,
    counts: true,
    uri: (key) => deps.store.uri(key),
    finalizeMinBytes: deps.finalizeMinBytes,
  };
}

function mappedOf(m: MapResults): Mapped {
  const records = m.recordSummary();
  return {
    tokens: m.tokens,
    invalidSequences: m.invalidSequences,
    longTokens: m.longTokens,
    bytesScanned: m.bytesScanned,
    uncompressedBytes: m.uncompressedBytes,
    documents: m.documents,
    ...(records && { records }),
  };
}

/** Starts the phase after `done`: the map phase's successor is chosen by the results. */
export async function afterPhase(
  deps: QueueDeps,
  ledger: JobLedger,
  job: QueuedJob,
  done: TaskPhase,
  by: string,
  starting?: StartingUsage,
): Promise<void> {
  if (done === 'map') await afterMapPhase(deps, ledger, job, by, starting);
  else if (done === 'reduce') await afterReducePhase(deps, ledger, job, by, starting);
  else await afterFinalizePhase(deps, ledger, job, starting);
}

async function afterMapPhase(
  deps: QueueDeps,
  ledger: JobLedger,
  job: QueuedJob,
  by: string,
  starting: StartingUsage,
): Promise<void> {
  const before = (await ledger.phase('map'))?.usage;
  const merged = new MapResults({
    work: deps.store,
    workPrefix: ledger.prefix,
    partitions: job.partitions,
    chunkSize: job.chunkSize,
    maxInlineDistinct: job.maxInlineDistinct,
  });
  // One result at a time, a few read ahead: memory does not grow with the tasks.
  const used = emptyTally();
  for await (const result of ledger.eachResult('map', job.mapTasks, MapResultSchema)) {
    if (result.usage) addUsage(used, TASK_FUNCTION, result.usage);
    await merged.add(result, `map task ${result.index}`);
  }
  const usage = () => usageSoFar(before, used, starting);
  // A rerun after a crash in publish finds the record counted.
  const on = await updateLedger(
    deps,
    ledger,
    (s) => {
      s.tasks.mapDone = job.mapTasks;
    },
    ['running', 'counted'],
  );
  // The attempt ended (failed, superseded) or was replaced: nothing more to start.
  if (!on) return;
  const target = { store: deps.store, key: ledger.stagedCountsKey() };
  const next = await afterMap(merged, { ...phaseOptions(deps, ledger, job), target });
  if (next.next === 'counted') {
    await publishQueued(deps, ledger, job, {
      mapped: mappedOf(merged),
      distinct: next.distinct,
      kept: next.kept,
      top: next.top,
      reduceTasks: 0,
      maxRssBytes: merged.maxRssBytes,
      usage,
    });
    return;
  }
  const planned = await updateLedger(deps, ledger, (s) => {
    s.tasks.reduce = next.requests.length;
  });
  if (!planned) return;
  const at = nowOf(deps).toISOString();
  const record = { by, at, mapped: mappedOf(merged), maxRssBytes: merged.maxRssBytes };
  await startTasks(deps, ledger, 'reduce', record, next.requests, usage);
}

async function afterReducePhase(
  deps: QueueDeps,
  ledger: JobLedger,
  job: QueuedJob,
  by: string,
  starting: StartingUsage,
): Promise<void> {
  const reduce = await ledger.phase('reduce');
  if (reduce?.tasks === undefined || !reduce.mapped) {
    throw new JobFailedError(`job ${job.jobId}: the reduce phase has no record`);
  }
  const results = await ledger.results('reduce', reduce.tasks, ReduceResultSchema);
  const usage = () => usageSoFar(reduce.usage, tasksUsage(results), starting);
  const reduced = reducedOf(results, reduce.mapped.tokens, job.top);
  const maxRssBytes = Math.max(reduce.maxRssBytes ?? 0, reduced.maxRssBytes);
  const on = await updateLedger(
    deps,
    ledger,
    (s) => {
      s.tasks.reduceDone = results.length;
    },
    ['running', 'counted'],
  );
  if (!on) return;
  const target = { store: deps.store, key: ledger.stagedCountsKey() };
  const next = await afterReduce(results, deps.store, {
    ...phaseOptions(deps, ledger, job),
    target,
  });
  if (next.next === 'counted') {
    await publishQueued(deps, ledger, job, {
      mapped: reduce.mapped,
      distinct: reduced.distinct,
      kept: reduced.kept,
      top: reduced.top,
      reduceTasks: reduced.tasks,
      maxRssBytes,
      usage,
    });
    return;
  }
  const at = nowOf(deps).toISOString();
  const record = {
    by,
    at,
    mapped: reduce.mapped,
    reduced: {
      distinct: reduced.distinct,
      kept: reduced.kept,
      top: reduced.top,
      tasks: reduced.tasks,
    },
    maxRssBytes,
  };
  await startTasks(deps, ledger, 'finalize', record, next.requests, usage);
}

async function afterFinalizePhase(
  deps: QueueDeps,
  ledger: JobLedger,
  job: QueuedJob,
  starting: StartingUsage,
): Promise<void> {
  const finalize = await ledger.phase('finalize');
  if (finalize?.tasks === undefined || !finalize.mapped || !finalize.reduced) {
    throw new JobFailedError(`job ${job.jobId}: the finalize phase has no record`);
  }
  const results = await ledger.results('finalize', finalize.tasks, FinalizeResultSchema);
  const target = { store: deps.store, key: ledger.stagedCountsKey() };
  const partsRss = await afterFinalize(results, deps.store, target);
  await publishQueued(deps, ledger, job, {
    mapped: finalize.mapped,
    distinct: finalize.reduced.distinct,
    // A record from before pruning kept every word.
    kept: finalize.reduced.kept ?? finalize.reduced.distinct,
    top: finalize.reduced.top,
    reduceTasks: finalize.reduced.tasks,
    maxRssBytes: Math.max(finalize.maxRssBytes ?? 0, partsRss),
    usage: () => usageSoFar(finalize.usage, tasksUsage(results), starting),
  });
}
