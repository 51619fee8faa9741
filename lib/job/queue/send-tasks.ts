/**
 * Sending a phase's tasks: its requests kept in the ledger first (what the watchdog sends
 * again when messages are lost), then the phase recorded planned before any task goes, each
 * request in its message (or, when too big for SQS, kept in the bucket), then the phase
 * recorded sent. Sending again sends duplicates, which find their commits.
 */

import { mapLimit } from '../../concurrency.js';
import type { PhaseRecord, TaskMessage, TaskPhase } from '../../contracts/queue.js';
import type { TaskRequest } from '../../contracts/tasks.js';
import type { UsageTally } from '../../cost/usage.js';
import type { JobLedger } from '../ledger/attempt-ledger.js';
import type { QueueDeps } from './deps.js';

/** A message body above this keeps its request in the bucket (SQS takes 256 KiB). */
export const MAX_INLINE_MESSAGE_BYTES = 200 * 1024;
/** Requests kept in the bucket at once. */
const PUT_CONCURRENCY = 16;

/** Sends the tasks of `phase` (`only` these indexes: the watchdog's resend). */
export async function sendTasks(
  deps: QueueDeps,
  ledger: JobLedger,
  phase: TaskPhase,
  requests: readonly TaskRequest[],
  only?: ReadonlySet<number>,
): Promise<void> {
  const indexes = [...requests.keys()].filter((index) => !only || only.has(index));
  // The few requests too big for a message are kept first, at once.
  const messages = await mapLimit(indexes, PUT_CONCURRENCY, async (index) => {
    const request = requests[index] as TaskRequest;
    const message: TaskMessage = {
      jobId: ledger.jobId,
      attempt: ledger.attempt,
      phase,
      index,
      request,
    };
    if (Buffer.byteLength(JSON.stringify(message)) <= MAX_INLINE_MESSAGE_BYTES) return message;
    const requestKey = await ledger.putRequest(phase, index, request);
    return { jobId: ledger.jobId, attempt: ledger.attempt, phase, index, requestKey };
  });
  // In task order, several batches in flight (the queue's adapter): the first tasks run
  // while the last are being sent.
  await deps.queue.send(messages);
}

/** Plans a phase (recorded before any task goes), sends its tasks, records them sent. */
export async function startTasks(
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
  // The requests first: a phase recorded planned always has them to send again.
  await ledger.putPhaseRequests(phase, requests);
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
