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
import { mapLimit } from '../concurrency.js';
import type { StartRequest } from '../contracts/requests.js';
import type { JobStatus } from '../contracts/status.js';
import { JobBusyError, messageOf } from '../errors.js';
import { claimKey } from '../keys.js';
import type { Log } from '../log.js';
import type { ObjectStore } from '../ports.js';
import {
  type ActiveEntry,
  activeJobIds,
  clearActive,
  countRestart,
  readActive,
} from './ledger/active-jobs.js';
import { JobLedger } from './ledger/attempt-ledger.js';
import { HEARTBEAT_MS, isStaleLease, leaseHolder } from './ledger/lease.js';
import { recordOutcome } from './ledger/outcome.js';
import { isTerminal, readStatus } from './ledger/status.js';
import type { QueueDeps } from './queue/deps.js';
import { watchQueued } from './queue/watch.js';

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
  const watched = await watchQueued(
    { ...deps, maxResends: deps.maxRestarts ?? MAX_RESTARTS },
    status,
    ledger,
    now,
  );
  return { jobId, ...watched };
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
