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
  type JobStatus,
  type Mapped,
  MapResultSchema,
  type PhaseRecord,
  type QueuedJob,
  ReduceResultSchema,
  type Summary,
  type TaskMessage,
  type TaskPhase,
  type TaskRequest,
} from '../contracts.js';
import { costOf } from '../cost/job-cost.js';
import { DEFAULT_PRICES, type Prices } from '../cost/prices.js';
import {
  addUsage,
  emptyTally,
  mergeTally,
  type TaskUsage,
  type UsageTally,
} from '../cost/usage.js';
import { JobFailedError } from '../errors.js';
import { attemptPrefix, inputEtag } from '../keys.js';
import type { Log } from '../log.js';
import type { ObjectStore, TaskQueue } from '../ports.js';
import { sortTable } from '../reduce/merge-partials.js';
import { mergeTop } from '../reduce/order.js';
import { sortedLines } from '../reduce/sort-entries.js';
import { peakRssBytes } from '../rss.js';
import { TASK_FUNCTION } from './context.js';
import { concatenateParts, mergeIntoTarget } from './finalize.js';
import { resolveInput } from './inputs.js';
import type { JobLedger } from './ledger.js';
import { MapResults } from './map-results.js';
import { publish } from './publish.js';
import {
  checkReduced,
  finalizeRequestsFor,
  type PhaseOptions,
  reduceRequestsFor,
} from './reduce-plan.js';
import { topOf } from './reduce-task.js';
import { updateStatus } from './status.js';
import { summaryOf } from './summary.js';
import { removeAttemptObjects } from './temporaries.js';

/** A message body above this keeps its request in the bucket (SQS takes 256 KiB). */
export const MAX_INLINE_MESSAGE_BYTES = 200 * 1024;

export interface QueueDeps {
  store: ObjectStore;
  queue: TaskQueue;
  /** Runs a task: the task function itself on Lambda, a worker thread on the embedded backend. */
  runTask: (request: TaskRequest) => Promise<unknown>;
  /** Heartbeat period of the start and phase leases. */
  heartbeatMs?: number;
  now?: () => Date;
  log?: Log;
  /**
   * Reckon each job's cost: starts measuring what this function uses (its time, memory
   * and requests: startUsage); with `prices`, the published summary carries the cost.
   */
  measure?: () => () => TaskUsage;
  prices?: Prices;
  /** Told of each job this function published (its metrics). */
  onPublished?: (summary: Summary) => void;
}

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

export const nowOf = (deps: { now?: () => Date }) => (deps.now ?? (() => new Date()))();

/**
 * Changes the status of `ledger`'s attempt while it is in one of `states`: a late
 * writer of an attempt that ended, or was replaced, changes nothing.
 */
export function updateAttempt(
  deps: { store: ObjectStore; now?: () => Date },
  ledger: JobLedger,
  change: (status: JobStatus) => void,
  states: readonly JobStatus['state'][] = ['running'],
): Promise<boolean> {
  return updateStatus(deps, ledger.jobId, (s) => {
    if (s.attempt !== ledger.attempt || !states.includes(s.state)) return false;
    change(s);
    return true;
  });
}

/** Sends a phase's requests, each in its message or, when too big, kept in the bucket. */
export async function sendTasks(
  deps: QueueDeps,
  ledger: JobLedger,
  phase: TaskPhase,
  requests: readonly TaskRequest[],
): Promise<void> {
  const messages: TaskMessage[] = [];
  for (const [index, request] of requests.entries()) {
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
  await ledger.recordPhase(phase, { ...record, tasks: requests.length });
  await sendTasks(deps, ledger, phase, requests);
  deps.log?.(`job ${ledger.jobId}: ${phase} phase: ${requests.length} task(s) sent`, {
    jobId: ledger.jobId,
    attempt: ledger.attempt,
    phase,
    tasks: requests.length,
  });
  const used = usage();
  await ledger.recordPhase(phase, {
    ...record,
    tasks: requests.length,
    sent: true,
    ...(used && { usage: used }),
  });
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

interface Tally {
  mapped: Mapped;
  distinct: number;
  top: Summary['top'];
  reduceTasks: number;
  maxRssBytes: number;
  /** What the job used: asked for as the summary is written. */
  usage?: () => UsageTally | undefined;
}

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

/** The counts are staged: summarize, publish (version-safe), record the outcome, clean up. */
async function publishQueued(
  deps: QueueDeps,
  ledger: JobLedger,
  job: QueuedJob,
  tally: Tally,
): Promise<void> {
  const { store } = deps;
  const atOf = async (phase: 'reduce' | 'finalize') => {
    const record = await ledger.phase(phase);
    return record ? Date.parse(record.at) : undefined;
  };
  const started = Date.parse(job.startedAt);
  const planned = Date.parse(job.plannedAt);
  const end = nowOf(deps).getTime();
  const mapped = (await atOf('reduce')) ?? end;
  const reduced = (await atOf('finalize')) ?? mapped;
  const usage = tally.usage?.();
  const summary: Summary = {
    jobId: job.jobId,
    ...summaryOf({
      source: job.source,
      objects: [{ size: job.sources.bytes }],
      mode: job.mode,
      concurrency: job.concurrency,
      chunkSize: job.chunkSize,
      mapTasks: job.mapTasks,
      partitions: job.partitions,
      reduceTasks: tally.reduceTasks,
      map: tally.mapped,
      distinct: tally.distinct,
      top: tally.top.slice(0, job.top),
      maxRssBytes: Math.max(tally.maxRssBytes, peakRssBytes()),
      elapsedMs: end - started,
      phasesMs: {
        plan: Math.max(0, planned - started),
        map: Math.max(0, mapped - planned),
        reduce: Math.max(0, reduced - mapped),
        publish: Math.max(0, end - reduced),
      },
      // The orchestrator's use and the tasks' are all in the tally.
      cost: usage && costOf(usage, { backend: 'lambda', prices: deps.prices ?? DEFAULT_PRICES }),
    }),
    sources: job.sources,
  };
  // Counted: from here only this attempt's publish changes the record.
  const counted = await updateAttempt(
    deps,
    ledger,
    (s) => {
      s.state = 'counted';
      s.summary = summary;
    },
    ['running', 'counted'],
  );
  if (!counted) {
    deps.log?.(`job ${job.jobId}: attempt ${job.attempt} ended or was replaced; not publishing`, {
      jobId: job.jobId,
    });
    return;
  }
  const outcome = await publish(store, {
    jobId: job.jobId,
    version: job.source.etag,
    currentVersion: async () => inputEtag((await resolveInput(store, job.input)).objects),
    stagedCounts: ledger.stagedCountsKey(),
    output: job.output,
    summary,
    owner: `${job.jobId}/${job.attempt}`,
    periodMs: deps.heartbeatMs,
  });
  await updateAttempt(
    deps,
    ledger,
    (s) => {
      s.state = outcome === 'published' ? 'succeeded' : 'superseded';
      if (outcome === 'superseded')
        s.reason = 'a newer version of the input was uploaded: its own job publishes';
    },
    ['counted'],
  );
  deps.log?.(`job ${job.jobId}: ${outcome} ${store.uri(job.output.summary)}`, {
    jobId: job.jobId,
    attempt: job.attempt,
    phase: 'publish',
  });
  if (outcome === 'published') deps.onPublished?.(summary);
  await removeAttemptObjects(store, ledger.prefix, deps.log);
}
