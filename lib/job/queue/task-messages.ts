/**
 * The queue driver's consumer: the article's message-queue and shared-data approaches on
 * AWS primitives, where nobody waits for anybody. The orchestrator starts a job
 * (start.ts); each task message is run here and its result committed with a conditional
 * write; the task that completes a phase starts the next (advance.ts, phase-steps.ts). A
 * redelivered or duplicate message finds its commit and only acknowledges. A task that fails on every delivery lands in the dead-letter queue,
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
import { parsePayload } from '../../contracts/parse.js';
import { QueueMessageSchema, type TaskMessage } from '../../contracts/queue.js';
import {
  FinalizeResultSchema,
  MapResultSchema,
  ReduceResultSchema,
} from '../../contracts/tasks.js';
import { addRequests } from '../../cost/request-meter.js';
import {
  describeTaskError,
  isDeterministic,
  JobBusyError,
  TaskTimeoutError,
  taskErrorType,
} from '../../errors.js';
import { JobLedger } from '../ledger/attempt-ledger.js';
import { SUPERSEDED_REASON } from '../ledger/outcome.js';
import { runningAttempt } from '../ledger/status.js';
import { removeAttemptObjects } from '../ledger/temporaries.js';
import { currentVersion } from '../request/inputs.js';
import { advance } from './advance.js';
import type { QueueDeps } from './deps.js';
import { endJob } from './ending.js';

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
  if (!(await runningAttempt(deps.store, jobId, attempt))) {
    deps.log?.(`job ${jobId}: ${task} is dropped: that attempt ended or was replaced`, { jobId });
    // What its tasks wrote after it ended goes too (only this attempt's folder).
    await removeAttemptObjects(deps.store, ledger.prefix, deps.log);
    return;
  }
  let ran = false;
  try {
    if (await ledger.isCommitted(phase, index)) {
      deps.log?.(`job ${jobId}: ${task} was committed before; acknowledging`, { jobId });
    } else {
      ran = true;
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
  if (ran && !(await runningAttempt(deps.store, jobId, attempt))) {
    await removeAttemptObjects(deps.store, ledger.prefix, deps.log);
    return;
  }
  try {
    await advance(deps, ledger, phase, messageId, index);
  } catch (error) {
    // Not acknowledged, so it comes back; kept, so a step that never succeeds fails the
    // job saying why (the watchdog's bound, watch.ts).
    if (!(error instanceof JobBusyError)) {
      await ledger.recordStepError(phase, describeTaskError(error)).catch(() => undefined);
    }
    throw error;
  }
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
    if (job && (await currentVersion(deps.store, job.input)) === job.source.etag) throw error;
    await endJob(deps, ledger, 'superseded', `${reason}: ${SUPERSEDED_REASON}`);
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
