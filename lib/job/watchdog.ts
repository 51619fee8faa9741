/**
 * The watchdog: nothing is stuck. A sweep (every few minutes on a schedule; any sweep may
 * be lost, the next one sees the same state) looks at every job recorded active
 * (active.ts) and brings each one to an outcome:
 *
 *   ended         its outcome is recorded: only its active record is left to remove
 *   starting      a start under a fresh claim, or too young to judge
 *   restart       nobody holds its claim and it never got going (a start cut short), or
 *                 an rpc job whose orchestrator went silent: started again, as its first
 *                 start was (the stale claim is taken over)
 *   resend        a queued job whose tasks made no progress for `stallMs`: the tasks of
 *                 the phase that never committed are sent again (duplicates are safe: the
 *                 first commit wins), or, when all committed, the next phase is started
 *   failed        after `maxRestarts` restarts or resends without progress in between
 *
 * Lost messages are what it repairs: a queue purged, a message consumed by `sst dev`'s
 * stand-in while no session runs, a dead-lettered message that was throttled rather
 * than run. A process that died is already covered by the queue's redelivery.
 */
import { randomUUID } from 'node:crypto';
import { mapLimit } from '../concurrency.js';
import type { ActiveJob, JobStatus, StartRequest } from '../contracts.js';
import { JobBusyError, messageOf } from '../errors.js';
import { claimKey } from '../keys.js';
import type { Log } from '../log.js';
import type { ObjectStore } from '../ports.js';
import { type ActiveEntry, activeJobIds, clearActive, countRestart, readActive } from './active.js';
import { HEARTBEAT_MS, isStaleLease, leaseHolder } from './lease.js';
import { JobLedger } from './ledger.js';
import { recordOutcome } from './outcome.js';
import { advance, type QueueDeps } from './queue-driver.js';
import { endJob } from './queue-ending.js';
import { sendTasks } from './queue-phases.js';
import { isTerminal, readStatus } from './status.js';

/** Restarts of a job, or resends of its lost tasks, before it is recorded failed. */
export const MAX_RESTARTS = 3;
/** Jobs looked at in parallel. */
const SWEEP_CONCURRENCY = 4;

export interface WatchdogDeps {
  store: ObjectStore;
  /** How long a queued job may make no progress before its lost tasks are sent again. */
  stallMs: number;
  maxRestarts?: number;
  /** The claims' heartbeat period: a claim silent for two is stale. */
  heartbeatMs?: number;
  now?: () => Date;
  log?: Log;
  /** Starts a job again as its first start did; resolves when that start (rpc: run) ends. */
  restart(request: StartRequest): Promise<unknown>;
  /** Queue coordination: sending lost tasks again, starting a phase. */
  queue?: QueueDeps;
}

export type SweepAction = 'ended' | 'starting' | 'running' | 'restarted' | 'resent' | 'failed';

export interface SweepOutcome {
  jobId: string;
  action: SweepAction | 'busy' | 'error';
  detail?: string;
}

/** One round over every active job; a job whose check fails is reported, not thrown. */
export async function sweep(deps: WatchdogDeps): Promise<SweepOutcome[]> {
  const ids: string[] = [];
  for await (const id of activeJobIds(deps.store)) ids.push(id);
  return mapLimit(ids, SWEEP_CONCURRENCY, async (jobId): Promise<SweepOutcome> => {
    try {
      return await checkJob(deps, jobId);
    } catch (error) {
      if (error instanceof JobBusyError) return { jobId, action: 'busy', detail: error.message };
      deps.log?.(`watchdog: job ${jobId}: ${messageOf(error)}`, { jobId });
      return { jobId, action: 'error', detail: messageOf(error) };
    }
  });
}

const nowOf = (deps: WatchdogDeps) => (deps.now ?? (() => new Date()))();
const minutes = (ms: number) => `${Math.round(ms / 6000) / 10} min`;

async function checkJob(deps: WatchdogDeps, jobId: string): Promise<SweepOutcome> {
  const { store } = deps;
  const entry = await readActive(store, jobId);
  if (!entry) return { jobId, action: 'ended' };
  const status = await readStatus(store, jobId);
  if (status && isTerminal(status.state)) {
    await clearActive(store, jobId);
    return { jobId, action: 'ended' };
  }
  const period = deps.heartbeatMs ?? HEARTBEAT_MS;
  const now = nowOf(deps);
  const claim = await leaseHolder(store, claimKey(jobId));
  const held = claim !== undefined && !isStaleLease(claim, period, now);
  if (entry.record.coordination === 'rpc') {
    if (held) return { jobId, action: 'running' };
    // Written just before its claim: give a start that is under way the same grace.
    if (!claim && now.getTime() - Date.parse(entry.record.since) <= 2 * period) {
      return { jobId, action: 'starting' };
    }
    const silent = claim
      ? `its orchestrator has been silent since ${claim.heartbeatAt}`
      : 'it was never claimed';
    return restart(deps, entry, status, silent);
  }
  const ledger = status?.attempt
    ? new JobLedger(store, jobId, status.attempt, deps.now)
    : undefined;
  if (!status || !ledger || !(await ledger.phase('map'))?.sent) {
    if (held) return { jobId, action: 'starting' };
    if (!claim && now.getTime() - Date.parse(entry.record.since) <= 2 * period) {
      return { jobId, action: 'starting' };
    }
    return restart(deps, entry, status, 'its start was cut short');
  }
  return watchQueued(deps, entry.record, status, ledger, now);
}

/** Starts the job again, counting it; past the bound, records it failed. */
async function restart(
  deps: WatchdogDeps,
  entry: ActiveEntry,
  status: JobStatus | undefined,
  why: string,
): Promise<SweepOutcome> {
  const { jobId } = entry.record;
  const restarts = await countRestart(deps.store, entry);
  // Another sweep counted first: it restarts the job.
  if (restarts === undefined) return { jobId, action: 'busy', detail: 'another sweep has it' };
  const maxRestarts = deps.maxRestarts ?? MAX_RESTARTS;
  if (restarts > maxRestarts) {
    const reason = `${why}, after ${maxRestarts} restart(s) by the watchdog: given up`;
    await recordOutcome(deps, jobId, 'failed', reason, { status, request: entry.record.request });
    deps.log?.(`watchdog: job ${jobId} failed: ${reason}`, { jobId });
    return { jobId, action: 'failed', detail: reason };
  }
  deps.log?.(`watchdog: job ${jobId}: ${why}; starting it again (restart ${restarts})`, { jobId });
  await deps.restart(entry.record.request);
  return { jobId, action: 'restarted', detail: why };
}

/** The phase a queued attempt is in: the last one planned. */
async function currentPhase(ledger: JobLedger) {
  for (const phase of ['finalize', 'reduce', 'map'] as const) {
    const record = await ledger.phase(phase);
    if (record?.tasks !== undefined) return { phase, record, tasks: record.tasks };
  }
  return undefined;
}

async function watchQueued(
  deps: WatchdogDeps,
  active: ActiveJob,
  status: JobStatus,
  ledger: JobLedger,
  now: Date,
): Promise<SweepOutcome> {
  const { jobId } = active;
  const current = await currentPhase(ledger);
  if (!current) return { jobId, action: 'starting' };
  const { phase, record, tasks } = current;
  const commits = await ledger.commits(phase);
  const watch = await ledger.watch();
  // The last sign of life: a commit, the phase's record, the status, or our last resend.
  const times = [Date.parse(record.at), Date.parse(status.updatedAt)];
  if (commits.lastAt) times.push(commits.lastAt.getTime());
  const progressAt = Math.max(...times);
  const resentAt = watch?.phase === phase ? Date.parse(watch.at) : 0;
  const quietMs = now.getTime() - Math.max(progressAt, resentAt);
  if (quietMs < deps.stallMs) return { jobId, action: 'running' };
  const resends = watch?.phase === phase && resentAt >= progressAt ? watch.resends : 0;
  const maxRestarts = deps.maxRestarts ?? MAX_RESTARTS;
  const missing = tasks - commits.count;
  const lost =
    missing > 0
      ? `${missing} of ${tasks} ${phase} task(s) were never committed`
      : `its ${phase} phase completed but the next step never started`;
  const quiet = minutes(now.getTime() - progressAt);
  if (resends >= maxRestarts || !deps.queue) {
    const reason = `no progress for ${quiet}: ${lost}${deps.queue ? ` after ${resends} resend(s)` : ''} (their messages were lost: was \`sst dev\` not running, or the queue purged?)`;
    await endJob(deps, ledger, 'failed', reason);
    await clearActive(deps.store, jobId);
    deps.log?.(`watchdog: job ${jobId} failed: ${reason}`, { jobId });
    return { jobId, action: 'failed', detail: reason };
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
  return { jobId, action: 'resent', detail };
}
