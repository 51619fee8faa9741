/**
 * The watchdog's part of queue coordination: an attempt whose phase made no progress for
 * the stall time has its uncommitted tasks sent again (from the phase's requests kept in
 * the ledger), or, when all committed, the step after the phase tried again, as the task
 * that completed it would have; after the bound, it is recorded failed, saying what was
 * lost or why the step kept failing.
 *
 * Progress is a commit or a phase record, nothing else: a step that changes the status
 * and then fails (every time) must not look alive. Messages that wait in the queue are
 * a backlog, not a loss: the attempt is left alone while there are any.
 */
import { randomUUID } from 'node:crypto';
import { JobBusyError, messageOf } from '../../errors.js';
import type { Log } from '../../log.js';
import type { ObjectStore } from '../../ports.js';
import type { JobLedger } from '../ledger/attempt-ledger.js';
import { advance } from './advance.js';
import type { QueueDeps } from './deps.js';
import { endJob } from './ending.js';
import { sendTasks } from './send-tasks.js';

const minutes = (ms: number) => `${Math.round(ms / 6000) / 10} min`;

const PHASES = ['map', 'reduce', 'finalize'] as const;

/** The phase a queued attempt is in: the last one planned. */
async function currentPhase(ledger: JobLedger) {
  for (const phase of [...PHASES].reverse()) {
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
  action: 'starting' | 'running' | 'resent' | 'failed' | 'error';
  detail?: string;
}

/** Looks at a running queued attempt: still moving, or its lost tasks sent again, or failed. */
export async function watchQueued(deps: WatchDeps, ledger: JobLedger, now: Date): Promise<Watched> {
  const { jobId } = ledger;
  const current = await currentPhase(ledger);
  if (!current) return { action: 'starting' };
  const { phase, record, tasks } = current;
  const commits = await ledger.commits(phase);
  const watch = await ledger.watch();
  // The last sign of life: a commit, or the phase's record (a start of the phase, or a
  // sender that finished sending it), or our last resend.
  const progressAt = Math.max(Date.parse(record.at), commits.lastAt?.getTime() ?? 0);
  const resentAt = watch?.phase === phase ? Date.parse(watch.at) : 0;
  const quietMs = now.getTime() - Math.max(progressAt, resentAt);
  if (quietMs < deps.stallMs) return { action: 'running' };
  const backlog = (await deps.queue?.queue.waiting?.()) ?? 0;
  if (backlog > 0) return { action: 'running', detail: `${backlog} message(s) wait in the queue` };
  const resends = watch?.phase === phase && resentAt >= progressAt ? watch.resends : 0;
  const missing = tasks - commits.count;
  const stepError = missing > 0 ? undefined : (watch?.error ?? (await ledger.stepError(phase)));
  const lost =
    missing > 0
      ? `${missing} of ${tasks} ${phase} task(s) were never committed`
      : stepError
        ? `the step after its ${phase} phase keeps failing: ${stepError}`
        : `its ${phase} phase completed but the next step never started`;
  const quiet = minutes(now.getTime() - progressAt);
  if (resends >= deps.maxResends || !deps.queue) {
    const tried = deps.queue ? ` after ${resends} ${missing > 0 ? 'resend(s)' : 'tries'}` : '';
    const why = stepError
      ? ''
      : ' (their messages were lost: was `sst dev` not running, or the queue purged?)';
    const reason = `no progress for ${quiet}: ${lost}${tried}${why}`;
    await endJob({ store: deps.store, log: deps.log }, ledger, 'failed', reason);
    deps.log?.(`watchdog: job ${jobId} failed: ${reason}`, { jobId });
    return { action: 'failed', detail: reason };
  }
  const attempt = { phase, resends: resends + 1, at: now.toISOString() };
  const bound = `${resends + 1} of ${deps.maxResends}`;
  if (missing > 0) {
    const requests = await ledger.phaseRequests(phase);
    const uncommitted = new Set(requests.map((_, i) => i).filter((i) => !commits.indexes.has(i)));
    await sendTasks(deps.queue, ledger, phase, requests, uncommitted);
    // Counted once sent: a send that failed is tried again at the next sweep, uncounted.
    await ledger.recordWatch(attempt);
    const detail = `no progress for ${quiet}: ${lost}; sent them again (resend ${bound})`;
    deps.log?.(`watchdog: job ${jobId}: ${detail}`, { jobId, phase });
    return { action: 'resent', detail };
  }
  try {
    await advance(deps.queue, ledger, phase, `watchdog/${randomUUID()}`);
  } catch (error) {
    // Someone holds the step's lease: it is alive, not stalled.
    if (error instanceof JobBusyError) throw error;
    const message = messageOf(error);
    await ledger.recordWatch({ ...attempt, error: message });
    const detail = `no progress for ${quiet}: the step after its ${phase} phase failed again (try ${bound}): ${message}`;
    deps.log?.(`watchdog: job ${jobId}: ${detail}`, { jobId, phase });
    return { action: 'error', detail };
  }
  await ledger.recordWatch(attempt);
  const detail = `no progress for ${quiet}: ${lost}; started it (try ${bound})`;
  deps.log?.(`watchdog: job ${jobId}: ${detail}`, { jobId, phase });
  return { action: 'resent', detail };
}
