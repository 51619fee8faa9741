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
 * again runs as a new attempt with a ledger of its own; a message of an older attempt
 * is dropped. A message is only acknowledged when its work is committed, or when its
 * phase's successor is recorded sent: so a holder that dies leaves a message that
 * comes back and takes over.
 */
import { randomUUID } from 'node:crypto';
import type { ZodType } from 'zod';
import {
  FinalizeResultSchema,
  MapResultSchema,
  parsePayload,
  type QueuedJob,
  ReduceResultSchema,
  type Summary,
  SummarySchema,
  TaskMessageSchema,
  type TaskPhase,
} from '../contracts.js';
import { describeTaskError, isDeterministic, JobBusyError, taskErrorType } from '../errors.js';
import { attemptPrefix, claimKey, latestJobKey, queuedJobKey } from '../keys.js';
import { Lease } from './lease.js';
import { JobLedger } from './ledger.js';
import { INLINE_MAX_DISTINCT, mapRequestFor } from './map-results.js';
import { type JobRequestOptions, prepare, readJson } from './prepare.js';
import {
  afterPhase,
  nextPhase,
  nowOf,
  type QueueDeps,
  readQueuedJob,
  sendTasks,
} from './queue-phases.js';
import { planJob } from './run-job.js';
import { isTerminal, readStatus, updateStatus, writeStatus } from './status.js';
import { removeJobObjects } from './temporaries.js';

export type { QueueDeps } from './queue-phases.js';

/** What recording a job's end needs: no queue, no tasks. */
export type RecordDeps = Pick<QueueDeps, 'store' | 'now' | 'log'>;

/** Top words in a queued job's published summary. */
const QUEUED_TOP = 20;

export interface StartDeps extends QueueDeps {
  /** The bucket the task requests name (absent on the embedded backend). */
  bucket?: string;
  concurrency: number;
  defaultChunkSize: number;
  inlineLimitBytes: number;
  maxInlineDistinct?: number;
  /** The least output a finalize task merges: tests lower it to reach the finalize phase. */
  finalizeMinBytes?: number;
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

/**
 * The orchestrator's part: plan, record, send the map tasks, and return. A retry of a
 * start cut short sends them again (duplicates find their commits).
 */
export async function startQueuedJob(
  deps: StartDeps,
  request: JobRequestOptions,
  owner: string = randomUUID(),
): Promise<Started> {
  const { store } = deps;
  const startedAt = nowOf(deps);
  const job = await prepare({ ...deps, bucket: deps.bucket ?? '' }, request);
  const { jobId } = job;
  const status = await readStatus(store, jobId);
  if (status?.state === 'succeeded') {
    const published = await readJson(store, job.output.summary);
    const summary = SummarySchema.safeParse(published).data;
    if (summary?.jobId === jobId) return { outcome: 'already-published', jobId, summary };
  }
  const claim = new Lease(store, claimKey(jobId), owner, {
    periodMs: deps.heartbeatMs,
    now: deps.now,
    detail: `starting job ${jobId} for ${job.input.uri}`,
  });
  const acquired = await claim.acquire();
  if (!acquired.held) {
    throw new JobBusyError(
      `${job.input.uri}: job ${jobId} is being started by another invocation (heartbeat ${acquired.holder.heartbeatAt}); retry later`,
    );
  }
  claim.keepAlive((reason) => deps.log?.(`job ${jobId}: ${reason}`));
  try {
    const plan = await planJob(store, job.input.objects, {
      chunkSize: job.chunkSize,
      concurrency: deps.concurrency,
    });
    const running =
      status && !isTerminal(status.state) ? await readQueuedJob(store, jobId) : undefined;
    let queued: QueuedJob;
    if (running) {
      const map = await new JobLedger(store, jobId, running.attempt, deps.now).phase('map');
      if (map?.sent && map.tasks !== 0)
        return { outcome: 'already-queued', jobId, attempt: running.attempt };
      deps.log?.(`job ${jobId}: its start was cut short; sending its map tasks again`);
      queued = running;
    } else {
      // A first run, or one after an ending without output: a new attempt, from nothing.
      const name = job.input.name;
      await removeJobObjects(store, jobId, deps.log);
      queued = {
        jobId,
        attempt: randomUUID(),
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
      await store.put(queuedJobKey(jobId), JSON.stringify(queued), {
        contentType: 'application/json',
      });
      const bucket = deps.bucket ?? '';
      await writeStatus(
        store,
        {
          jobId,
          state: 'running',
          coordination: 'queue',
          input: { bucket, uri: job.input.uri, etag: job.etag, ...queued.sources },
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
    }
    const ledger = new JobLedger(store, jobId, queued.attempt, deps.now);
    const requests = plan.tasks.map((task) =>
      mapRequestFor({
        task,
        mode: job.mode,
        bucket: deps.bucket,
        workPrefix: attemptPrefix(jobId, ledger.attempt),
        partitions: plan.partitions,
        inlineLimitBytes: deps.inlineLimitBytes,
        expectedDistinct: 0,
        chunkSize: plan.chunkSize,
      }),
    );
    const record = { by: owner, at: nowOf(deps).toISOString(), tasks: requests.length };
    await ledger.recordPhase('map', record);
    await sendTasks(deps, ledger, 'map', requests);
    await ledger.recordPhase('map', { ...record, sent: true });
    deps.log?.(`job ${jobId}: ${requests.length} map task(s) queued for ${job.input.uri}`);
    // Only empty objects: no task will complete the map phase, so it completes here.
    if (requests.length === 0) await afterPhase(deps, ledger, queued, 'map', owner);
    return { outcome: 'queued', jobId, attempt: queued.attempt, tasks: requests.length };
  } finally {
    await claim.release();
  }
}

/**
 * A consumer's part: one task message, run (unless a duplicate committed it), committed,
 * and the phase advanced. Throws to have the message delivered again.
 */
export async function handleTaskMessage(
  deps: QueueDeps,
  body: unknown,
  messageId: string,
): Promise<void> {
  const message = parsePayload(TaskMessageSchema, body, `task message ${messageId}`);
  const { jobId, phase, index } = message;
  const job = await readQueuedJob(deps.store, jobId);
  const task = `${phase} task ${index} of attempt ${message.attempt}`;
  if (!job || job.attempt !== message.attempt) {
    const why = job ? `attempt ${job.attempt} replaced it` : 'it ended';
    deps.log?.(`job ${jobId}: ${why}; ${task} is dropped`);
    return;
  }
  const status = await readStatus(deps.store, jobId);
  if (!status || isTerminal(status.state)) {
    deps.log?.(`job ${jobId}: ${status?.state ?? 'no status'}; ${task} is dropped`);
    // A job that ended leaves nothing behind, even when its holder died before cleaning up.
    if (status) await removeJobObjects(deps.store, jobId, deps.log);
    return;
  }
  const ledger = new JobLedger(deps.store, jobId, job.attempt, deps.now);
  try {
    if (await ledger.isCommitted(phase, index)) {
      deps.log?.(`job ${jobId}: ${phase} task ${index} was committed before; acknowledging`);
    } else {
      const request = message.request ?? (await ledger.getRequest(message.requestKey as string));
      const schema: ZodType<unknown> = resultSchema[phase];
      const result = parsePayload(
        schema,
        await deps.runTask(request),
        `result of ${phase} task ${index}`,
      );
      if (!(await ledger.commit(phase, index, result))) {
        deps.log?.(`job ${jobId}: ${phase} task ${index} was committed by a duplicate`);
      }
    }
    await advance(deps, ledger, phase, messageId);
  } catch (error) {
    if (error instanceof JobBusyError) throw error;
    const reason = `${phase} task ${index} failed: ${describeTaskError(error)}`;
    if (taskErrorType(error) === 'PreconditionFailedError') {
      // A source changed under the job (reads are If-Match): the newer version's job publishes.
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
    await ledger.recordError(phase, index, describeTaskError(error)).catch(() => undefined);
    throw error;
  }
}

/** When `phase` is complete, the one task holding the next phase's lease starts it. */
async function advance(
  deps: QueueDeps,
  ledger: JobLedger,
  phase: TaskPhase,
  messageId: string,
): Promise<void> {
  const planned = (await ledger.phase(phase))?.tasks;
  if (planned === undefined || (await ledger.committed(phase)) < planned) return;
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
  lease.keepAlive((reason) => deps.log?.(`job ${ledger.jobId}: ${reason}`));
  try {
    if ((await ledger.phase(next))?.sent) return;
    // The holder re-reads the job: a stale copy must not start another attempt's phase.
    const job = await readQueuedJob(deps.store, ledger.jobId);
    if (job?.attempt !== ledger.attempt) return;
    if (acquired.tookOver)
      deps.log?.(
        `job ${ledger.jobId}: took over the ${next} phase from ${acquired.tookOver.owner}`,
      );
    await afterPhase(deps, ledger, job, phase, messageId);
  } finally {
    await lease.release().catch(() => undefined);
  }
}

/** Records the job ended unpublished (unless it ended already) and removes its temporaries. */
async function endJob(
  deps: RecordDeps,
  ledger: JobLedger,
  state: 'failed' | 'superseded',
  reason: string,
): Promise<void> {
  let ended = false;
  await updateStatus(deps, ledger.jobId, (s) => {
    if (isTerminal(s.state)) return;
    s.state = state;
    s.reason = reason;
    ended = true;
  });
  if (ended) deps.log?.(`job ${ledger.jobId}: ${state}: ${reason}`);
  await removeJobObjects(deps.store, ledger.jobId, deps.log);
}

/**
 * The dead-letter queue's part: a task that failed on every delivery fails its job,
 * which then publishes nothing.
 */
export async function handleDeadLetter(
  deps: RecordDeps,
  body: unknown,
  messageId: string,
): Promise<void> {
  const message = parsePayload(TaskMessageSchema, body, `dead letter ${messageId}`);
  const job = await readQueuedJob(deps.store, message.jobId);
  if (!job || job.attempt !== message.attempt) return;
  const ledger = new JobLedger(deps.store, job.jobId, job.attempt, deps.now);
  const error =
    (await ledger.lastError(message.phase, message.index)) ?? 'its process died every time';
  await endJob(
    deps,
    ledger,
    'failed',
    `${message.phase} task ${message.index} failed on every delivery: ${error}`,
  );
}
