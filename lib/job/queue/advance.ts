/**
 * Fan-in without a coordinator: after committing, a task counts its group's commits and
 * then the complete groups (S3 listing is strongly consistent, so the last one to commit
 * sees them all; ledger.phaseComplete), a constant number of requests per task. When the
 * phase is complete, the task holding the next phase's lease starts it (phase-steps.ts);
 * others that see it complete too are not acknowledged until the start is recorded sent,
 * so if the starter dies its message, or another's, comes back and takes over.
 */
import { randomUUID } from 'node:crypto';
import type { TaskPhase } from '../../contracts/queue.js';
import { JobBusyError } from '../../errors.js';
import type { JobLedger } from '../ledger/attempt-ledger.js';
import { runningAttempt } from '../ledger/status.js';
import type { QueueDeps } from './deps.js';
import { afterPhase, nextPhase } from './phase-steps.js';

/** When `phase` is complete, the one task holding the next phase's lease starts it. */
export async function advance(
  deps: QueueDeps,
  ledger: JobLedger,
  phase: TaskPhase,
  by: string,
  /** The task that just committed (the watchdog has none: then every group is looked at). */
  index?: number,
): Promise<void> {
  const starting = deps.measure?.();
  const record = await ledger.phase(phase);
  if (record?.tasks === undefined) return;
  if (!(await ledger.phaseComplete(phase, record.tasks, index))) return;
  // A duplicate of an attempt that ended writes nothing into its removed folder.
  if (!(await runningAttempt(deps.store, ledger.jobId, ledger.attempt))) return;
  // Every task committed, so every task was sent: say so, in case its sender died before
  // it could (a rerun of that start then finds the phase begun and stops).
  if (!record.sent) await ledger.recordPhase(phase, { ...record, sent: true });
  const next = nextPhase[phase];
  if ((await ledger.phase(next))?.sent) return;
  const lease = ledger.phaseLease(next, `${by}/${randomUUID()}`, deps.heartbeatMs);
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
    if (!(await runningAttempt(deps.store, ledger.jobId, ledger.attempt))) return;
    const job = await ledger.readJob();
    if (!job) return;
    if (acquired.tookOver) {
      deps.log?.(
        `job ${ledger.jobId}: took over the ${next} phase from ${acquired.tookOver.owner}`,
        { jobId: ledger.jobId, phase: next },
      );
    }
    await afterPhase(deps, ledger, job, phase, by, starting);
  } finally {
    await lease.release().catch(() => undefined);
  }
}
