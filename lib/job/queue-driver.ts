/**
 * Queue coordination: the article's message-queue and shared-data approaches on AWS
 * primitives, where nobody waits for anybody. The orchestrator plans a job, records it,
 * sends one message per map task and returns. Each task commits its result with a
 * conditional write; the task that completes a phase (S3 listing is strongly consistent)
 * takes the next phase's lease and starts it: the reduce tasks, the finalize tasks, the
 * publish (queue-phases.ts). A redelivered or duplicate message finds its commit and only
 * acknowledges. A task that fails on every delivery lands in the dead-letter queue,
 * whose handler records the job failed; one that fails the same way whatever the run (a
 * corrupt gzip object) fails the job at once. The state is in S3, so a job has no time
 * limit and no process whose death loses it.
 *
 * Attempts. A job that ended without publishing (failed, superseded) and is asked for
 * again runs as a new attempt with a ledger of its own; the status names the attempt it
 * is about, every change to it is a compare-and-swap that checks the attempt, and a
 * message of another attempt is dropped (and its attempt's leftovers removed). A message
 * is acknowledged only when its work is committed, or when the phase after it is
 * recorded sent: a holder that dies leaves a message that comes back and takes over.
 * The start itself is covered by a delayed start check sent before anything else.
 */
import { randomUUID } from 'node:crypto';
import type { ZodType } from 'zod';
import {
  FinalizeResultSchema,
  type JobStatus,
  MapResultSchema,
  parsePayload,
  type QueuedJob,
  QueueMessageSchema,
  ReduceResultSchema,
  type StartCheck,
  type Summary,
  SummarySchema,
  type TaskMessage,
  type TaskPhase,
} from '../contracts.js';
import { addRequests } from '../cost/request-meter.js';
import { addUsage, emptyTally, type UsageTally } from '../cost/usage.js';
import { describeTaskError, isDeterministic, JobBusyError, taskErrorType } from '../errors.js';
import { claimKey, inputEtag, latestJobKey } from '../keys.js';
import type { SourceObject } from '../plan.js';
import { resolveInput } from './inputs.js';
import { Lease } from './lease.js';
import { JobLedger } from './ledger.js';
import { INLINE_MAX_DISTINCT, mapRequestFor } from './map-results.js';
import { type JobRequestOptions, prepare, readJson } from './prepare.js';
import {
  afterPhase,
  nextPhase,
  nowOf,
  type QueueDeps,
  sendTasks,
  updateAttempt,
} from './queue-phases.js';
import { planJob } from './run-job.js';
import { isTerminal, readStatus, writeStatus } from './status.js';
import { removeAttemptObjects, removeJobObjects } from './temporaries.js';

export type { QueueDeps } from './queue-phases.js';

/** What recording a job's end needs: no queue, no tasks. */
export type RecordDeps = Pick<QueueDeps, 'store' | 'now' | 'log' | 'heartbeatMs'>;

/** Top words in a queued job's published summary. */
const QUEUED_TOP = 20;
/** When the start check arrives: the orchestrator has sent the map tasks long before. */
export const START_CHECK_DELAY_SECONDS = 120;

export interface StartDeps extends QueueDeps {
  /** The bucket the task requests name (absent on the embedded backend). */
  bucket?: string;
  concurrency: number;
  defaultChunkSize: number;
  inlineLimitBytes: number;
  maxInlineDistinct?: number;
  /** The least output a finalize task merges: tests lower it to reach the finalize phase. */
  finalizeMinBytes?: number;
  /** Tests shorten the start check's delay. */
  startCheckDelaySeconds?: number;
}

export type Started =
  | { outcome: 'queued'; jobId: string; attempt: string; tasks: number }
  | { outcome: 'already-queued'; jobId: string; attempt: string }
  | { outcome: 'already-published'; jobId: string; summary: Summary };

const resultSchema = {
  map: MapResultSchema,
  reduce: ReduceResultSchema,
  finalize: FinalizeResultSchema,
};

/** The lease on starting job `jobId`: the orchestrator's, or a start check's. */
function startLease(deps: RecordDeps, jobId: string, owner: string, uri: string): Lease {
  return new Lease(deps.store, claimKey(jobId), owner, {
    periodMs: deps.heartbeatMs,
    now: deps.now,
    detail: `starting job ${jobId} for ${uri}`,
  });
}

/**
 * The orchestrator's part: plan, record, send the map tasks, and return. A start cut
 * short (the orchestrator died) is finished by its start check, or by a retry.
 */
export async function startQueuedJob(
  deps: StartDeps,
  request: JobRequestOptions,
  owner: string = randomUUID(),
): Promise<Started> {
  const { store } = deps;
  const startedAt = nowOf(deps);
  const measured = deps.measure?.();
  const used = measured && (() => addUsage(emptyTally(), 'orchestrator', measured()));
  const job = await prepare({ ...deps, bucket: deps.bucket ?? '' }, request);
  const { jobId } = job;
  const claim = startLease(deps, jobId, owner, job.input.uri);
  const acquired = await claim.acquire();
  if (!acquired.held) {
    throw new JobBusyError(
      `${job.input.uri}: job ${jobId} is being started by another invocation (heartbeat ${acquired.holder.heartbeatAt}); retry later`,
    );
  }
  claim.keepAlive((reason) => deps.log?.(`job ${jobId}: ${reason}`, { jobId }));
  try {
    // Read under the claim: no other start changes it meanwhile.
    const status = await readStatus(store, jobId);
    if (status?.state === 'succeeded') {
      const summary = SummarySchema.safeParse(await readJson(store, job.output.summary)).data;
      if (summary?.jobId === jobId) return { outcome: 'already-published', jobId, summary };
    }
    if (status && !isTerminal(status.state) && status.attempt) {
      const ledger = new JobLedger(store, jobId, status.attempt, deps.now);
      const queued = await ledger.readJob();
      if (queued) {
        if ((await ledger.phase('map'))?.sent) {
          return { outcome: 'already-queued', jobId, attempt: queued.attempt };
        }
        deps.log?.(`job ${jobId}: its start was cut short; sending its map tasks again`, { jobId });
        const tasks = await sendMapTasks(deps, ledger, queued, job.input.objects, owner, used);
        return { outcome: 'queued', jobId, attempt: queued.attempt, tasks };
      }
    }
    // A first run, or one after an ending without output: a new attempt, from nothing.
    await removeJobObjects(store, jobId, deps.log);
    const attempt = randomUUID();
    const ledger = new JobLedger(store, jobId, attempt, deps.now);
    // Sent first: if this invocation dies anywhere after, the check finishes the start.
    const check: StartCheck = { jobId, attempt, check: 'start' };
    await deps.queue.send([check], {
      delaySeconds: deps.startCheckDelaySeconds ?? START_CHECK_DELAY_SECONDS,
    });
    const plan = await planJob(store, job.input.objects, {
      chunkSize: job.chunkSize,
      concurrency: deps.concurrency,
    });
    const name = job.input.name;
    const queued: QueuedJob = {
      jobId,
      attempt,
      bucket: deps.bucket,
      input: name.kind === 'keys' ? { kind: 'keys', keys: [...name.keys] } : name,
      source: { uri: job.input.uri, etag: job.etag },
      sources: {
        objects: job.input.objects.length,
        bytes: job.input.objects.reduce((sum, o) => sum + o.size, 0),
      },
      mode: job.mode,
      chunkSize: plan.chunkSize,
      partitions: plan.partitions,
      mapTasks: plan.tasks.length,
      concurrency: deps.concurrency,
      top: QUEUED_TOP,
      inlineLimitBytes: deps.inlineLimitBytes,
      maxInlineDistinct: deps.maxInlineDistinct ?? INLINE_MAX_DISTINCT,
      finalizeMinBytes: deps.finalizeMinBytes,
      output: job.output,
      startedAt: startedAt.toISOString(),
      plannedAt: nowOf(deps).toISOString(),
    };
    await ledger.writeJob(queued);
    await writeStatus(
      store,
      {
        jobId,
        state: 'running',
        coordination: 'queue',
        attempt,
        input: { bucket: deps.bucket ?? '', uri: job.input.uri, etag: job.etag, ...queued.sources },
        mode: job.mode,
        chunkSize: plan.chunkSize,
        updatedAt: '',
        tasks: { map: plan.tasks.length, mapDone: 0, reduce: 0, reduceDone: 0 },
        output: job.output,
      },
      nowOf(deps),
    );
    await store.put(latestJobKey(job.output.summary), JSON.stringify({ jobId }), {
      contentType: 'application/json',
    });
    const tasks = await sendMapTasks(deps, ledger, queued, job.input.objects, owner, used);
    deps.log?.(`job ${jobId}: ${tasks} map task(s) queued for ${job.input.uri}`, {
      jobId,
      attempt,
      phase: 'map',
      tasks,
    });
    return { outcome: 'queued', jobId, attempt, tasks };
  } finally {
    await claim.release();
  }
}

/**
 * Plans the map phase (recorded before any task goes), sends its tasks, records them
 * sent; returns how many. Planning again gives the same tasks, so a repeat only sends
 * duplicates, which find their commits.
 */
async function sendMapTasks(
  deps: QueueDeps & { concurrency?: number },
  ledger: JobLedger,
  job: QueuedJob,
  objects: readonly SourceObject[],
  by: string,
  /** What the sender used so far: the job's first usage record (the orchestrator's). */
  used?: () => UsageTally,
): Promise<number> {
  const plan = await planJob(deps.store, objects, {
    chunkSize: job.chunkSize,
    concurrency: job.concurrency,
  });
  const requests = plan.tasks.map((task) =>
    mapRequestFor({
      task,
      mode: job.mode,
      bucket: job.bucket,
      workPrefix: ledger.prefix,
      partitions: job.partitions,
      inlineLimitBytes: job.inlineLimitBytes,
      expectedDistinct: 0,
      chunkSize: job.chunkSize,
    }),
  );
  const record = { by, at: nowOf(deps).toISOString(), tasks: requests.length };
  await ledger.recordPhase('map', record);
  await sendTasks(deps, ledger, 'map', requests);
  await ledger.recordPhase('map', { ...record, sent: true, ...(used && { usage: used() }) });
  // Only empty objects: no task will complete the map phase, so it completes here.
  if (requests.length === 0) await afterPhase(deps, ledger, job, 'map', by);
  return requests.length;
}

/** The status, when it is about `attempt` and the job still runs. */
async function runningAttempt(
  deps: RecordDeps,
  jobId: string,
  attempt: string,
): Promise<JobStatus | undefined> {
  const status = await readStatus(deps.store, jobId);
  return status?.attempt === attempt && !isTerminal(status.state) ? status : undefined;
}

/** Handles anything on the task queue; throws to have it delivered again. */
export async function handleQueueMessage(
  deps: QueueDeps,
  body: unknown,
  messageId: string,
  /** How many times the queue delivered this message, this one included. */
  receiveCount = 1,
): Promise<void> {
  const message = parsePayload(QueueMessageSchema, body, `queue message ${messageId}`);
  if ('check' in message) await handleStartCheck(deps, message, messageId);
  else await handleTaskMessage(deps, message, messageId, receiveCount);
}

/** The start check: the map tasks were sent, or they are sent now. */
async function handleStartCheck(deps: QueueDeps, check: StartCheck, messageId: string) {
  const { jobId, attempt } = check;
  const ledger = new JobLedger(deps.store, jobId, attempt, deps.now);
  if (!(await runningAttempt(deps, jobId, attempt)) || (await ledger.phase('map'))?.sent) return;
  const job = await ledger.readJob();
  if (!job) return;
  // The orchestrator's claim: stale once it died (it is renewed while it works).
  const claim = startLease(deps, jobId, `start check ${messageId}`, job.source.uri);
  const acquired = await claim.acquire();
  if (!acquired.held) {
    throw new JobBusyError(
      `job ${jobId}: its start is still under way (heartbeat ${acquired.holder.heartbeatAt})`,
    );
  }
  try {
    if (!(await runningAttempt(deps, jobId, attempt)) || (await ledger.phase('map'))?.sent) return;
    const objects = (await resolveInput(deps.store, job.input)).objects;
    if (inputEtag(objects) !== job.source.etag) {
      await endJob(
        deps,
        ledger,
        'superseded',
        'a newer version of the input was uploaded before the job started: its own job publishes',
      );
      return;
    }
    deps.log?.(`job ${jobId}: its orchestrator died while starting it; sending its map tasks`, {
      jobId,
    });
    await sendMapTasks(deps, ledger, job, objects, `start check ${messageId}`);
  } finally {
    await claim.release();
  }
}

/**
 * A consumer's part: one task message, run (unless a duplicate committed it), committed,
 * and the phase advanced.
 */
async function handleTaskMessage(
  deps: QueueDeps,
  message: TaskMessage,
  messageId: string,
  receiveCount: number,
) {
  const measured = deps.measure?.();
  const { jobId, phase, index, attempt } = message;
  if (receiveCount > 1) {
    deps.log?.(`job ${jobId}: ${phase} task ${index} delivered again (delivery ${receiveCount})`, {
      jobId,
      phase,
      task: index,
      attempt,
      retry: receiveCount - 1,
    });
  }
  const ledger = new JobLedger(deps.store, jobId, attempt, deps.now);
  const task = `${phase} task ${index} of attempt ${attempt}`;
  if (!(await runningAttempt(deps, jobId, attempt))) {
    deps.log?.(`job ${jobId}: ${task} is dropped: that attempt ended or was replaced`, { jobId });
    // What its tasks wrote after it ended goes too (only this attempt's folder).
    await removeAttemptObjects(deps.store, ledger.prefix, deps.log);
    return;
  }
  try {
    if (await ledger.isCommitted(phase, index)) {
      deps.log?.(`job ${jobId}: ${task} was committed before; acknowledging`, { jobId });
    } else {
      const request = message.request ?? (await ledger.getRequest(message.requestKey as string));
      const schema: ZodType<unknown> = resultSchema[phase];
      const result = parsePayload(schema, await deps.runTask(request), `result of ${task}`);
      if (measured) {
        // What this delivery used up to its commit, the commit's own write included.
        const usage = measured();
        addRequests(usage.requests, { 's3:PutObject': 1 });
        if (receiveCount > 1) usage.retries = receiveCount - 1;
        (result as { usage?: unknown }).usage = usage;
      }
      if (await ledger.commit(phase, index, result)) {
        deps.log?.(`job ${jobId}: ${task} committed`, { jobId, phase, task: index, attempt });
      } else deps.log?.(`job ${jobId}: ${task} was committed by a duplicate`, { jobId });
    }
  } catch (error) {
    await taskFailed(deps, ledger, message, error);
    return;
  }
  // The job may have ended while the task ran: then what the task wrote is removed.
  if (!(await runningAttempt(deps, jobId, attempt))) {
    await removeAttemptObjects(deps.store, ledger.prefix, deps.log);
    return;
  }
  await advance(deps, ledger, phase, messageId);
}

/** A task failed: end the job when every delivery would fail alike, else throw for a retry. */
async function taskFailed(
  deps: QueueDeps,
  ledger: JobLedger,
  message: TaskMessage,
  error: unknown,
) {
  const reason = `${message.phase} task ${message.index} failed: ${describeTaskError(error)}`;
  if (taskErrorType(error) === 'PreconditionFailedError') {
    // A source changed under the job (reads are If-Match on the recorded ETags). Unless
    // the recorded version is back (re-uploaded), the newer version's job publishes.
    const job = await ledger.readJob();
    const current = job && inputEtag((await resolveInput(deps.store, job.input)).objects);
    if (job && current === job.source.etag) throw error;
    await endJob(
      deps,
      ledger,
      'superseded',
      `${reason}: a newer version of the input was uploaded`,
    );
    return;
  }
  if (isDeterministic(error)) {
    // Every delivery would fail the same way: fail the job now, not after the retries.
    await endJob(deps, ledger, 'failed', reason);
    return;
  }
  await ledger
    .recordError(message.phase, message.index, describeTaskError(error))
    .catch(() => undefined);
  throw error;
}

/** When `phase` is complete, the one task holding the next phase's lease starts it. */
async function advance(
  deps: QueueDeps,
  ledger: JobLedger,
  phase: TaskPhase,
  messageId: string,
): Promise<void> {
  const coordination = deps.measure?.();
  const record = await ledger.phase(phase);
  if (record?.tasks === undefined || (await ledger.committed(phase)) < record.tasks) return;
  // Every task committed, so every task was sent: say so, in case its sender died before
  // it could (a rerun of that start then finds the phase begun and stops).
  if (!record.sent) await ledger.recordPhase(phase, { ...record, sent: true });
  const next = nextPhase[phase];
  if ((await ledger.phase(next))?.sent) return;
  const lease = ledger.phaseLease(next, `${messageId}/${randomUUID()}`, deps.heartbeatMs);
  const acquired = await lease.acquire();
  if (!acquired.held) {
    // Not acknowledged: if the holder dies, this message comes back and takes over.
    throw new JobBusyError(
      `job ${ledger.jobId}: the ${next} phase is being started by another task (heartbeat ${acquired.holder.heartbeatAt})`,
    );
  }
  lease.keepAlive((reason) =>
    deps.log?.(`job ${ledger.jobId}: ${reason}`, { jobId: ledger.jobId }),
  );
  try {
    if ((await ledger.phase(next))?.sent) return;
    if (!(await runningAttempt(deps, ledger.jobId, ledger.attempt))) return;
    const job = await ledger.readJob();
    if (!job) return;
    if (acquired.tookOver) {
      deps.log?.(
        `job ${ledger.jobId}: took over the ${next} phase from ${acquired.tookOver.owner}`,
        { jobId: ledger.jobId, phase: next },
      );
    }
    await afterPhase(deps, ledger, job, phase, messageId, coordination);
  } finally {
    await lease.release().catch(() => undefined);
  }
}

/** Records the attempt ended unpublished (unless it ended already) and removes its objects. */
async function endJob(
  deps: RecordDeps,
  ledger: JobLedger,
  state: 'failed' | 'superseded',
  reason: string,
): Promise<void> {
  const ended = await updateAttempt(
    deps,
    ledger,
    (s) => {
      s.state = state;
      s.reason = reason;
    },
    ['running', 'counted'],
  );
  if (ended) deps.log?.(`job ${ledger.jobId}: ${state}: ${reason}`, { jobId: ledger.jobId });
  await removeAttemptObjects(deps.store, ledger.prefix, deps.log);
}

/**
 * The dead-letter queue's part: a task that failed on every delivery fails its job,
 * which then publishes nothing. A start check there means the start kept failing.
 */
export async function handleDeadLetter(
  deps: RecordDeps,
  body: unknown,
  messageId: string,
): Promise<void> {
  const message = parsePayload(QueueMessageSchema, body, `dead letter ${messageId}`);
  const ledger = new JobLedger(deps.store, message.jobId, message.attempt, deps.now);
  if (!(await runningAttempt(deps, message.jobId, message.attempt))) return;
  if ('check' in message) {
    await endJob(deps, ledger, 'failed', 'its start failed on every attempt');
    return;
  }
  const error =
    (await ledger.lastError(message.phase, message.index)) ?? 'its process died every time';
  await endJob(
    deps,
    ledger,
    'failed',
    `${message.phase} task ${message.index} failed on every delivery: ${error}`,
  );
}
