/**
 * What the task that completes a phase of a queued job does next, under the phase's
 * lease: after the map phase, merge the map results (small: the counts are done; big:
 * send the reduce tasks); after the reduce phase, merge the shards (small) or send the
 * finalize tasks; after finalize, concatenate the parts; then publish. Each step may run
 * again from the start (its holder died and its message came back), so each is
 * idempotent: same keys, same contents, duplicates of sent tasks find their commits.
 */
import {
  FinalizeResultSchema,
  MapResultSchema,
  ReduceResultSchema,
  type TaskRequest,
} from '../contracts.js';
import {
  addUsage,
  emptyTally,
  mergeTally,
  type TaskUsage,
  type UsageTally,
} from '../cost/usage.js';
import { JobFailedError } from '../errors.js';
import { attemptPrefix } from '../keys.js';
import type { Mapped, PhaseRecord, QueuedJob, TaskMessage, TaskPhase } from '../queue-contracts.js';
import { sortTable } from '../reduce/merge-partials.js';
import { mergeTop } from '../reduce/order.js';
import { sortedLines } from '../reduce/sort-entries.js';
import { TASK_FUNCTION } from './context.js';
import { concatenateParts, mergeIntoTarget } from './finalize.js';
import type { JobLedger } from './ledger.js';
import { MapResults } from './map-results.js';
import { nowOf, type QueueDeps, updateAttempt } from './queue-deps.js';
import { publishQueued } from './queue-publish.js';
import {
  checkReduced,
  finalizeRequestsFor,
  type PhaseOptions,
  reduceRequestsFor,
} from './reduce-plan.js';
import { topOf } from './reduce-task.js';

export { nowOf, type QueueDeps, updateAttempt } from './queue-deps.js';

/** A message body above this keeps its request in the bucket (SQS takes 256 KiB). */
export const MAX_INLINE_MESSAGE_BYTES = 200 * 1024;

/** Starting the next phase, as measured from the start of it (the work of no task). */
export type Coordination = (() => TaskUsage) | undefined;

/**
 * The job's use so far: what the last phase record carried, its tasks', and this
 * invocation's work starting the next phase (part of an invocation counted already).
 */
function usageSoFar(
  before: UsageTally | undefined,
  results: readonly { usage?: TaskUsage }[],
  coordination: Coordination,
): UsageTally | undefined {
  if (!coordination) return undefined;
  const tally = mergeTally(emptyTally(), before ?? emptyTally());
  for (const result of results) if (result.usage) addUsage(tally, TASK_FUNCTION, result.usage);
  addUsage(tally, TASK_FUNCTION, coordination(), 0);
  return tally;
}

/**
 * Sends a phase's requests, each in its message or, when too big, kept in the bucket.
 * The first send keeps them all in the ledger, for the watchdog; it sends `only` the
 * tasks whose messages were lost.
 */
export async function sendTasks(
  deps: QueueDeps,
  ledger: JobLedger,
  phase: TaskPhase,
  requests: readonly TaskRequest[],
  only?: ReadonlySet<number>,
): Promise<void> {
  if (!only) await ledger.putPhaseRequests(phase, requests);
  const messages: TaskMessage[] = [];
  for (const [index, request] of requests.entries()) {
    if (only && !only.has(index)) continue;
    const message: TaskMessage = {
      jobId: ledger.jobId,
      attempt: ledger.attempt,
      phase,
      index,
      request,
    };
    if (Buffer.byteLength(JSON.stringify(message)) <= MAX_INLINE_MESSAGE_BYTES)
      messages.push(message);
    else {
      const requestKey = await ledger.putRequest(phase, index, request);
      messages.push({ jobId: ledger.jobId, attempt: ledger.attempt, phase, index, requestKey });
    }
  }
  await deps.queue.send(messages);
}

/** Plans a phase (recorded before any task goes), sends its tasks, records them sent. */
async function startTasks(
  deps: QueueDeps,
  ledger: JobLedger,
  phase: TaskPhase,
  record: PhaseRecord,
  requests: readonly TaskRequest[],
  usage: () => UsageTally | undefined,
): Promise<void> {
  // The usage goes in the first record too: a task that completes the phase before the
  // second is written (or after its sender died) writes it `sent` from the first.
  const used = usage();
  const planned = { ...record, tasks: requests.length, ...(used && { usage: used }) };
  await ledger.recordPhase(phase, planned);
  await sendTasks(deps, ledger, phase, requests);
  deps.log?.(`job ${ledger.jobId}: ${phase} phase: ${requests.length} task(s) sent`, {
    jobId: ledger.jobId,
    attempt: ledger.attempt,
    phase,
    tasks: requests.length,
  });
  // Measured again, so the sends count too (a task that recorded the phase sent before
  // this write took the first measure).
  const sent = usage();
  await ledger.recordPhase(phase, { ...planned, sent: true, ...(sent && { usage: sent }) });
}

function phaseOptions(deps: QueueDeps, job: QueuedJob): PhaseOptions {
  return {
    partitions: job.partitions,
    concurrency: job.concurrency,
    workPrefix: attemptPrefix(job.jobId, job.attempt),
    bucket: job.bucket,
    top: job.top,
    counts: true,
    uri: (key) => deps.store.uri(key),
    finalizeMinBytes: job.finalizeMinBytes,
  };
}

const mappedOf = (m: MapResults): Mapped => ({
  tokens: m.tokens,
  invalidSequences: m.invalidSequences,
  longTokens: m.longTokens,
  bytesScanned: m.bytesScanned,
  uncompressedBytes: m.uncompressedBytes,
});

/** Starts the phase after `done`: the map phase's successor is chosen by the results. */
export async function afterPhase(
  deps: QueueDeps,
  ledger: JobLedger,
  job: QueuedJob,
  done: TaskPhase,
  by: string,
  coordination?: Coordination,
): Promise<void> {
  if (done === 'map') await afterMap(deps, ledger, job, by, coordination);
  else if (done === 'reduce') await afterReduce(deps, ledger, job, by, coordination);
  else await afterFinalize(deps, ledger, job, coordination);
}

/** The phase that follows `phase`, whose lease the task completing `phase` takes. */
export const nextPhase = { map: 'reduce', reduce: 'finalize', finalize: 'publish' } as const;

async function afterMap(
  deps: QueueDeps,
  ledger: JobLedger,
  job: QueuedJob,
  by: string,
  coordination: Coordination,
): Promise<void> {
  const { store } = deps;
  const results = await ledger.results('map', job.mapTasks, MapResultSchema);
  const before = (await ledger.phase('map'))?.usage;
  const usage = () => usageSoFar(before, results, coordination);
  const merged = new MapResults({
    work: store,
    workPrefix: attemptPrefix(job.jobId, job.attempt),
    partitions: job.partitions,
    chunkSize: job.chunkSize,
    maxInlineDistinct: job.maxInlineDistinct,
  });
  for (const result of results) await merged.add(result, `map task ${result.index}`);
  // A rerun after a crash in publish finds the record counted.
  const on = await updateAttempt(
    deps,
    ledger,
    (s) => {
      s.tasks.mapDone = job.mapTasks;
    },
    ['running', 'counted'],
  );
  // The attempt ended (failed, superseded) or was replaced: nothing more to start.
  if (!on) return;
  if (merged.inline) {
    const sorted = sortTable(merged.table);
    await store.put(ledger.stagedCountsKey(), sortedLines(sorted), {
      contentType: 'text/tab-separated-values',
    });
    await publishQueued(deps, ledger, job, {
      mapped: mappedOf(merged),
      distinct: merged.table.size,
      top: topOf(sortedLines(sorted, { limit: job.top })),
      reduceTasks: 0,
      maxRssBytes: merged.maxRssBytes,
      usage,
    });
    return;
  }
  await merged.spillInline();
  const requests = reduceRequestsFor(phaseOptions(deps, job), merged.parts);
  const planned = await updateAttempt(deps, ledger, (s) => {
    s.tasks.reduce = requests.length;
  });
  if (!planned) return;
  const at = nowOf(deps).toISOString();
  await startTasks(
    deps,
    ledger,
    'reduce',
    { by, at, mapped: mappedOf(merged), maxRssBytes: merged.maxRssBytes },
    requests,
    usage,
  );
}

async function afterReduce(
  deps: QueueDeps,
  ledger: JobLedger,
  job: QueuedJob,
  by: string,
  coordination: Coordination,
): Promise<void> {
  const { store } = deps;
  const reduce = await ledger.phase('reduce');
  if (reduce?.tasks === undefined || !reduce.mapped) {
    throw new JobFailedError(`job ${job.jobId}: the reduce phase has no record`);
  }
  const results = await ledger.results('reduce', reduce.tasks, ReduceResultSchema);
  const usage = () => usageSoFar(reduce.usage, results, coordination);
  checkReduced(results, reduce.mapped.tokens);
  const reduced = {
    distinct: results.reduce((n, r) => n + r.distinct, 0),
    top: mergeTop(
      results.map((r) => r.top),
      job.top,
    ),
    tasks: results.length,
  };
  const maxRssBytes = Math.max(reduce.maxRssBytes ?? 0, ...results.map((r) => r.maxRssBytes));
  const on = await updateAttempt(
    deps,
    ledger,
    (s) => {
      s.tasks.reduceDone = results.length;
    },
    ['running', 'counted'],
  );
  if (!on) return;
  const shards = results.flatMap((r) => (r.shard ? [r.shard] : []));
  const requests = finalizeRequestsFor(phaseOptions(deps, job), shards);
  if (requests.length === 0) {
    await mergeIntoTarget(store, shards, { store, key: ledger.stagedCountsKey() });
    await publishQueued(deps, ledger, job, {
      mapped: reduce.mapped,
      distinct: reduced.distinct,
      top: reduced.top,
      reduceTasks: reduced.tasks,
      maxRssBytes,
      usage,
    });
    return;
  }
  const at = nowOf(deps).toISOString();
  await startTasks(
    deps,
    ledger,
    'finalize',
    { by, at, mapped: reduce.mapped, reduced, maxRssBytes },
    requests,
    usage,
  );
}

async function afterFinalize(
  deps: QueueDeps,
  ledger: JobLedger,
  job: QueuedJob,
  coordination: Coordination,
): Promise<void> {
  const { store } = deps;
  const finalize = await ledger.phase('finalize');
  if (finalize?.tasks === undefined || !finalize.mapped || !finalize.reduced) {
    throw new JobFailedError(`job ${job.jobId}: the finalize phase has no record`);
  }
  const results = await ledger.results('finalize', finalize.tasks, FinalizeResultSchema);
  await concatenateParts(
    store,
    results.map((r) => r.part),
    { store, key: ledger.stagedCountsKey() },
  );
  await publishQueued(deps, ledger, job, {
    mapped: finalize.mapped,
    distinct: finalize.reduced.distinct,
    top: finalize.reduced.top,
    reduceTasks: finalize.reduced.tasks,
    maxRssBytes: Math.max(finalize.maxRssBytes ?? 0, ...results.map((r) => r.maxRssBytes)),
    usage: () => usageSoFar(finalize.usage, results, coordination),
  });
}
