/**
 * The watchdog: nothing is stuck. A sweep (every few minutes on a schedule; any sweep may
 * be lost, the next one sees the same state) looks at every job recorded active
 * (active.ts) and brings each one to an outcome:
 *
 *   ended         its outcome is recorded: only its active record is left to remove
 *   starting      a start under a fresh claim, or too young to judge
 *   restart       nobody holds its claim and it never got going (a start cut short), or
 *                 an rpc job whose orchestrator went silent: started again, as its first
 *                 start was (the stale claim is taken over). An rpc restart runs the
 *                 whole job in the sweep's invocation, so a round restarts one, after
 *                 its checks; the others wait for the next round, uncounted
 *   superseded    stopped, and its input has changed since: the new version's job counts
 *   resend        a queued job whose tasks made no progress for `stallMs` while none of
 *                 its messages wait in the queue: the tasks of the phase that never
 *                 committed are sent again (duplicates are safe: the first commit wins),
 *                 or, when all committed, the step after the phase is tried again
 *   failed        after `maxRestarts` restarts or resends without progress in between;
 *                 the reason says what was lost, or the last error of what was retried
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
  clearIfEnded,
  countRestart,
  readActive,
  recordRestartError,
  removeActive,
} from './ledger/active-jobs.js';
import { JobLedger } from './ledger/attempt-ledger.js';
import { HEARTBEAT_MS, isStaleLease, leaseHolder } from './ledger/lease.js';
import { inputChanged, recordOutcome, SUPERSEDED_REASON } from './ledger/outcome.js';
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
  /**
   * Starts a job again as its first start did; resolves when that start (rpc: run) ends,
   * with the id of the job it started (another one when the input changed).
   */
  restart(request: StartRequest): Promise<{ jobId: string }>;
  /** Queue coordination: sending lost tasks again, starting a phase. */
  queue?: QueueDeps;
}

export type SweepAction =
  | 'ended'
  | 'starting'
  | 'running'
  | 'restarted'
  | 'resent'
  | 'superseded'
  | 'failed'
  | 'waiting';

export interface SweepOutcome {
  jobId: string;
  action: SweepAction | 'busy' | 'error';
  detail?: string;
}

/** A stopped job to start again: why, and what was read about it. */
interface Stopped {
  entry: ActiveEntry;
  status: JobStatus | undefined;
  why: string;
}

const reported = async (
  deps: WatchdogDeps,
  jobId: string,
  check: () => Promise<SweepOutcome>,
): Promise<SweepOutcome> => {
  try {
    return await check();
  } catch (error) {
    if (error instanceof JobBusyError) return { jobId, action: 'busy', detail: error.message };
    deps.log?.(`watchdog: job ${jobId}: ${messageOf(error)}`, { jobId });
    return { jobId, action: 'error', detail: messageOf(error) };
  }
};

/** One round over every active job; a job whose check fails is reported, not thrown. */
export async function sweep(deps: WatchdogDeps): Promise<SweepOutcome[]> {
  const ids: string[] = [];
  for await (const id of activeJobIds(deps.store)) ids.push(id);
  const stoppedRpc: Stopped[] = [];
  const outcomes = await mapLimit(ids, SWEEP_CONCURRENCY, (jobId) =>
    reported(deps, jobId, async () => {
      const checked = await checkJob(deps, jobId);
      if ('action' in checked) return checked;
      if (checked.entry.record.coordination === 'queue') return restart(deps, checked);
      stoppedRpc.push(checked);
      return { jobId, action: 'waiting', detail: `${checked.why}; one rpc job restarts a round` };
    }),
  );
  // One rpc restart a round, after the checks: the round's whole time and memory are its.
  // The job whose latest start is oldest goes first (a restart stamps its start anew).
  stoppedRpc.sort((a, b) => Date.parse(a.entry.record.since) - Date.parse(b.entry.record.since));
  const [first] = stoppedRpc;
  if (!first) return outcomes;
  const jobId = first.entry.record.jobId;
  outcomes[ids.indexOf(jobId)] = await reported(deps, jobId, () => restart(deps, first));
  return outcomes;
}

const nowOf = (deps: WatchdogDeps) => (deps.now ?? (() => new Date()))();

/** What the job needs: an outcome, or a restart (a stopped job). */
async function checkJob(deps: WatchdogDeps, jobId: string): Promise<SweepOutcome | Stopped> {
  const { store } = deps;
  const entry = await readActive(store, jobId);
  if (!entry) return { jobId, action: 'ended' };
  const status = await readStatus(store, jobId);
  // A status that ended before the job's latest start is an earlier run's: that start
  // is under way, or was cut short.
  const ended = status && isTerminal(status.state) ? status : undefined;
  if (ended && Date.parse(ended.updatedAt) >= Date.parse(entry.record.since)) {
    await clearIfEnded(store, jobId, ended);
    return { jobId, action: 'ended' };
  }
  const current = ended ? undefined : status;
  const period = deps.heartbeatMs ?? HEARTBEAT_MS;
  const now = nowOf(deps);
  const claim = await leaseHolder(store, claimKey(jobId));
  const held = claim !== undefined && !isStaleLease(claim, period, now);
  // Written just before its claim: a start under way gets the same grace as a claim.
  const young = !claim && now.getTime() - Date.parse(entry.record.since) <= 2 * period;
  if (entry.record.coordination === 'rpc') {
    if (held) return { jobId, action: 'running' };
    if (young) return { jobId, action: 'starting' };
    const why = claim
      ? `its orchestrator has been silent since ${claim.heartbeatAt}`
      : 'it was never claimed';
    return { entry, status: current, why };
  }
  const ledger = current?.attempt
    ? new JobLedger(store, jobId, current.attempt, deps.now)
    : undefined;
  if (!current || !ledger || !(await ledger.phase('map'))?.sent) {
    if (held || young) return { jobId, action: 'starting' };
    return { entry, status: current, why: 'its start was cut short' };
  }
  const watched = await watchQueued(
    { ...deps, maxResends: deps.maxRestarts ?? MAX_RESTARTS },
    ledger,
    now,
  );
  return { jobId, ...watched };
}

/**
 * Starts a stopped job again, counting it; past the bound, records it failed. A job
 * whose input changed since is superseded instead: the new version's job counts.
 */
async function restart(deps: WatchdogDeps, stopped: Stopped): Promise<SweepOutcome> {
  const { entry, status, why } = stopped;
  const { store } = deps;
  const { jobId, request } = entry.record;
  if (status && (await inputChanged(store, request.input, status.input.etag))) {
    await recordOutcome(deps, jobId, 'superseded', `${why}: ${SUPERSEDED_REASON}`, {
      status,
      request,
    });
    return { jobId, action: 'superseded', detail: SUPERSEDED_REASON };
  }
  const restarts = await countRestart(store, entry);
  // Another sweep counted first: it restarts the job.
  if (restarts === undefined) return { jobId, action: 'busy', detail: 'another sweep has it' };
  const maxRestarts = deps.maxRestarts ?? MAX_RESTARTS;
  if (restarts > maxRestarts) {
    const last = entry.record.lastError ? ` (the last restart: ${entry.record.lastError})` : '';
    const reason = `${why}, after ${maxRestarts} restart(s) by the watchdog: given up${last}`;
    if (status) await recordOutcome(deps, jobId, 'failed', reason, { status, request });
    else if (!(await readStatus(store, jobId))) {
      await recordOutcome(deps, jobId, 'failed', reason, { request });
    }
    await dropStart(store, entry);
    deps.log?.(`watchdog: job ${jobId} failed: ${reason}`, { jobId });
    return { jobId, action: 'failed', detail: reason };
  }
  deps.log?.(`watchdog: job ${jobId}: ${why}; starting it again (restart ${restarts})`, { jobId });
  try {
    const started = await deps.restart(request);
    if (started.jobId !== jobId) {
      // The input changed after the job's last record: the start was the new version's.
      await recordOutcome(deps, jobId, 'superseded', `${why}: ${SUPERSEDED_REASON}`, {
        status,
        request,
      });
      await dropStart(store, entry);
      return { jobId, action: 'superseded', detail: SUPERSEDED_REASON };
    }
  } catch (error) {
    if (error instanceof JobBusyError) throw error;
    await recordRestartError(store, jobId, messageOf(error)).catch(() => undefined);
    throw error;
  }
  return { jobId, action: 'restarted', detail: why };
}

/**
 * The start the watchdog gave up on is over, whatever the status says: its record goes,
 * unless another start stamped it meanwhile.
 */
async function dropStart(store: ObjectStore, entry: ActiveEntry): Promise<void> {
  const left = await readActive(store, entry.record.jobId);
  if (left?.record.since === entry.record.since) {
    await removeActive(store, entry.record.jobId, left.etag);
  }
}
