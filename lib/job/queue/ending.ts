/**
 * How a queued job ends without publishing: recorded failed or superseded (unless it
 * ended already) and its objects removed; and the dead-letter queue's part in that.
 */
import { parsePayload } from '../../contracts/parse.js';
import { QueueMessageSchema } from '../../contracts/queue.js';
import { clearIfEnded } from '../ledger/active-jobs.js';
import { JobLedger } from '../ledger/attempt-ledger.js';
import { runningAttempt } from '../ledger/status.js';
import { removeAttemptObjects } from '../ledger/temporaries.js';
import { type QueueDeps, updateLedger } from './deps.js';

/** Runs of a task that failed before its job fails: the queue's receives before it dead-letters. */
export const MAX_RUNS = 3;

/** What recording a job's end needs: no queue, no tasks. */
export type RecordDeps = Pick<QueueDeps, 'store' | 'now' | 'log' | 'heartbeatMs'>;

/** Records the attempt ended unpublished (unless it ended already) and removes its objects. */
export async function endJob(
  deps: RecordDeps,
  ledger: JobLedger,
  state: 'failed' | 'superseded',
  reason: string,
): Promise<void> {
  const ended = await updateLedger(
    deps,
    ledger,
    (s) => {
      s.state = state;
      s.reason = reason;
    },
    ['running', 'counted'],
  );
  if (ended) {
    deps.log?.(`job ${ledger.jobId}: ${state}: ${reason}`, { jobId: ledger.jobId });
    await clearIfEnded(deps.store, ledger.jobId);
  }
  await removeAttemptObjects(deps.store, ledger.prefix, deps.log);
}

/**
 * The dead-letter queue's part: a task that failed on every delivery fails its job,
 * which then publishes nothing. One that was received but not run as often (throttled)
 * is a lost message: the watchdog's.
 */
export async function handleDeadLetter(
  deps: RecordDeps,
  body: unknown,
  messageId: string,
): Promise<void> {
  const message = parsePayload(QueueMessageSchema, body, `dead letter ${messageId}`);
  const ledger = new JobLedger(deps.store, message.jobId, message.attempt, deps.now);
  if (!(await runningAttempt(deps.store, message.jobId, message.attempt))) return;
  const task = `${message.phase} task ${message.index}`;
  if (await ledger.isCommitted(message.phase, message.index)) {
    // It ran and committed; the step after it failed (or lost a race for it): the
    // watchdog retries that step, and fails the job if it never succeeds.
    deps.log?.(
      `job ${message.jobId}: ${task} was dead-lettered after its commit: the step after it is the watchdog's`,
      { jobId: message.jobId, phase: message.phase, task: message.index },
    );
    return;
  }
  const runs = await ledger.runs(message.phase, message.index);
  if (runs < MAX_RUNS) {
    // Received, not run (throttled, or its receives lost): a lost message, which the
    // watchdog sends again once the job stops making progress.
    deps.log?.(
      `job ${message.jobId}: ${task} was dead-lettered after ${runs} run(s): throttled or lost, not failing; the watchdog sends it again`,
      { jobId: message.jobId, phase: message.phase, task: message.index },
    );
    return;
  }
  const error =
    (await ledger.lastError(message.phase, message.index)) ??
    'its process died every time (killed, or out of memory)';
  await endJob(deps, ledger, 'failed', `${task} failed on every delivery: ${error}`);
}
