/**
 * How a queued job ends without publishing: recorded failed or superseded (unless it
 * ended already) and its objects removed; and the dead-letter queue's part in that.
 */
import { type JobStatus, parsePayload } from '../contracts.js';
import { QueueMessageSchema } from '../queue-contracts.js';
import { JobLedger } from './ledger.js';
import { type QueueDeps, updateAttempt } from './queue-deps.js';
import { isTerminal, readStatus } from './status.js';
import { removeAttemptObjects } from './temporaries.js';

/** What recording a job's end needs: no queue, no tasks. */
export type RecordDeps = Pick<QueueDeps, 'store' | 'now' | 'log' | 'heartbeatMs'>;

/** The status, when it is about `attempt` and the job still runs. */
export async function runningAttempt(
  deps: RecordDeps,
  jobId: string,
  attempt: string,
): Promise<JobStatus | undefined> {
  const status = await readStatus(deps.store, jobId);
  return status?.attempt === attempt && !isTerminal(status.state) ? status : undefined;
}

/** Records the attempt ended unpublished (unless it ended already) and removes its objects. */
export async function endJob(
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
