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
 * A start cut short, and tasks whose messages were lost, are the watchdog's
 * (watchdog.ts).
 */
import { randomUUID } from 'node:crypto';
import type { ZodType } from 'zod';
import {
  FinalizeResultSchema,
  MapResultSchema,
  parsePayload,
  ReduceResultSchema,
} from '../contracts.js';
import { addRequests } from '../cost/request-meter.js';
import {
  describeTaskError,
  isDeterministic,
  JobBusyError,
  TaskTimeoutError,
  taskErrorType,
} from '../errors.js';
import { inputEtag } from '../keys.js';
import { QueueMessageSchema, type TaskMessage, type TaskPhase } from '../queue-contracts.js';
import { resolveInput } from './inputs.js';
import { JobLedger } from './ledger.js';
import { endJob, runningAttempt } from './queue-ending.js';
import { afterPhase, nextPhase, type QueueDeps } from './queue-phases.js';
import { removeAttemptObjects } from './temporaries.js';

export { handleDeadLetter, type RecordDeps } from './queue-ending.js';
export type { QueueDeps } from './queue-phases.js';
export { type StartDeps, type Started, startQueuedJob } from './queue-start.js';

const resultSchema = {
  map: MapResultSchema,
  reduce: ReduceResultSchema,
  finalize: FinalizeResultSchema,
};

/** Handles anything on the task queue; throws to have it delivered again. */
export async function handleQueueMessage(
  deps: QueueDeps,
  body: unknown,
  messageId: string,
  /** How many times the queue delivered this message, this one included. */
  receiveCount = 1,
): Promise<void> {
  const message = parsePayload(QueueMessageSchema, body, `queue message ${messageId}`);
  await handleTaskMessage(deps, message, messageId, receiveCount);
}

/** Milliseconds kept back before the function's deadline to record that the task timed out. */
const TIMEOUT_MARGIN_MS = 1500;

/**
 * Records the task timed out just before the function is stopped for it, so a task
 * that times out on every delivery fails its job saying so (not "its process died").
 * `error()` is that timeout once it was recorded.
 */
function watchDeadline(deps: QueueDeps, ledger: JobLedger, message: TaskMessage) {
  const remaining = deps.remainingMs?.();
  let timedOut: TaskTimeoutError | undefined;
  if (remaining === undefined || !Number.isFinite(remaining)) {
    return { stop: () => undefined, error: () => timedOut };
  }
  const started = Date.now();
  const timer = setTimeout(
    () => {
      const seconds = Math.round((Date.now() - started + TIMEOUT_MARGIN_MS) / 1000);
      timedOut = new TaskTimeoutError(`timed out after ${seconds} s (the counter's timeout)`);
      ledger
        .recordError(message.phase, message.index, describeTaskError(timedOut))
        .catch(() => undefined);
    },
    Math.max(0, remaining - TIMEOUT_MARGIN_MS),
  );
  timer.unref();
  return { stop: () => clearTimeout(timer), error: () => timedOut };
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
      // A run, not a receive that was throttled: what the dead-letter handler counts.
      await ledger.recordRun(phase, index, `${receiveCount}-${randomUUID()}`);
      const schema: ZodType<unknown> = resultSchema[phase];
      const deadline = watchDeadline(deps, ledger, message);
      let output: unknown;
      try {
        output = await deps.runTask(request);
      } catch (error) {
        // Past the deadline the function is being stopped: that is why the task failed.
        throw deadline.error() ?? error;
      } finally {
        deadline.stop();
      }
      const result = parsePayload(schema, output, `result of ${task}`);
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
export async function advance(
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
