/** What the queue coordination's steps are given. */
import type { JobStatus } from '../../contracts/status.js';
import type { Summary } from '../../contracts/summary.js';
import type { TaskRequest } from '../../contracts/tasks.js';
import type { Prices } from '../../cost/prices.js';
import type { TaskUsage } from '../../cost/usage.js';
import type { Log } from '../../log.js';
import type { ObjectStore, TaskQueue } from '../../ports.js';
import type { JobLedger } from '../ledger/attempt-ledger.js';
import { type JobState, updateAttempt } from '../ledger/status.js';

export interface QueueDeps {
  store: ObjectStore;
  queue: TaskQueue;
  /** Runs a task: the task function itself on Lambda, a worker thread on the embedded backend. */
  runTask: (request: TaskRequest) => Promise<unknown>;
  /** Heartbeat period of the start and phase leases. */
  heartbeatMs?: number;
  now?: () => Date;
  log?: Log;
  /**
   * Reckon each job's cost: starts measuring what this function uses (its time, memory
   * and requests: startUsage); with `prices`, the published summary carries the cost.
   */
  measure?: () => () => TaskUsage;
  prices?: Prices;
  /** Told of each job this function published (its metrics). */
  onPublished?: (summary: Summary) => void;
  /** Milliseconds until this function is stopped (Lambda's getRemainingTimeInMillis). */
  remainingMs?: () => number;
  /** The least output a finalize task merges (tests lower it to reach the finalize phase). */
  finalizeMinBytes?: number;
}

export const nowOf = (deps: { now?: () => Date }) => (deps.now ?? (() => new Date()))();

/** Changes the status of the ledger's attempt while it is in one of `states`. */
export function updateLedger(
  deps: { store: ObjectStore; now?: () => Date },
  ledger: JobLedger,
  change: (status: JobStatus) => void,
  states?: readonly JobState[],
): Promise<boolean> {
  return updateAttempt(deps, ledger.jobId, ledger.attempt, change, states);
}
