/**
 * The watchdog's part of queue coordination: an attempt whose phase made no progress for
 * the stall time has its uncommitted tasks sent again (from the phase's requests kept in
 * the ledger), or, when all committed, its next phase started, as the task that completed
 * it would have; after the bound, it is recorded failed, saying what was lost.
 */
import { randomUUID } from 'node:crypto';
import type { JobStatus } from '../../contracts/status.js';
import type { Log } from '../../log.js';
import type { ObjectStore } from '../../ports.js';
import { clearActive } from '../ledger/active-jobs.js';
import type { JobLedger } from '../ledger/attempt-ledger.js';
import { advance } from './advance.js';
import type { QueueDeps } from './deps.js';
import { endJob } from './ending.js';
import { sendTasks } from './send-tasks.js';

const minutes = (ms: number) => `${Math.round(ms / 6000) / 10} min`;

/** The phase a queued attempt is in: the last one planned. */
async function currentPhase(ledger: JobLedger) {
  for (const phase of ['finalize', 'reduce', 'map'] as const) {
    const record = await ledger.phase(phase);
    if (record?.tasks !== undefined) return { phase, record, tasks: record.tasks };
  }
  return undefined;
}

export interface WatchDeps {
  store: ObjectStore;
  /** How long an attempt may make no progress before its tasks are taken for lost. */
  stallMs: number;
  /** Resends without progress in between before the job is recorded failed. */
  maxResends: number;
  log?: Log;
  /** To send again and start phases; without it a stalled attempt is recorded failed. */
  queue?: QueueDeps;
}

export interface Watched {
  action: 'starting' | 'running' | 'resent' | 'failed';
  detail?: string;
}

/** Looks at a running queued attempt: still moving, or its lost tasks sent again, or failed. */
export async function watchQueued(
  deps: WatchDeps,
  status: JobStatus,
  ledger: JobLedger,
  now: Date,
): Promise<Watched> {
  const { jobId } = ledger;
  const current = await currentPhase(ledger);
  if (!current) return { action: 'starting' };
  const { phase, record, tasks } = current;
  const commits = await ledger.commits(phase);
  const watch = await ledger.watch();
  // The last sign of life: a commit, the phase's record, the status, or our last resend.
  const times = [Date.parse(record.at), Date.parse(status.updatedAt)];
  if (commits.lastAt) times.push(commits.lastAt.getTime());
  const progressAt = Math.max(...times);
  const resentAt = watch?.phase === phase ? Date.parse(watch.at) : 0;
  const quietMs = now.getTime() - Math.max(progressAt, resentAt);
  if (quietMs < deps.stallMs) return { action: 'running' };
  const resends = watch?.phase === phase && resentAt >= progressAt ? watch.resends : 0;
  const maxRestarts = deps.maxResends;
  const missing = tasks - commits.count;
  const lost =
    missing > 0
      ? `${missing} of ${tasks} ${phase} task(s) were never committed`
      : `its ${phase} phase completed but the next step never started`;
  const quiet = minutes(now.getTime() - progressAt);
  if (resends >= maxRestarts || !deps.queue) {
    const reason = `no progress for ${quiet}: ${lost}${deps.queue ? ` after ${resends} resend(s)` : ''} (their messages were lost: was \`sst dev\` not running, or the queue purged?)`;
    await endJob({ store: deps.store, log: deps.log }, ledger, 'failed', reason);
    await clearActive(deps.store, jobId);
    deps.log?.(`watchdog: job ${jobId} failed: ${reason}`, { jobId });
    return { action: 'failed', detail: reason };
  }
  await ledger.recordWatch({ phase, resends: resends + 1, at: now.toISOString() });
  if (missing > 0) {
    const requests = await ledger.phaseRequests(phase);
    const uncommitted = new Set(requests.map((_, i) => i).filter((i) => !commits.indexes.has(i)));
    await sendTasks(deps.queue, ledger, phase, requests, uncommitted);
  } else {
    await advance(deps.queue, ledger, phase, `watchdog/${randomUUID()}`);
  }
  const detail = `no progress for ${quiet}: ${lost}; ${missing > 0 ? 'sent them again' : 'started it'} (resend ${resends + 1} of ${maxRestarts})`;
  deps.log?.(`watchdog: job ${jobId}: ${detail}`, { jobId, phase });
  return { action: 'resent', detail };
}
