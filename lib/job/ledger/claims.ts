/**
 * The claim on a job, jobs/ID/claim.json: the lease its starter holds (queue: while it
 * starts the job; RPC: while its orchestrator runs the job). A claim whose heartbeat went
 * silent for two periods belongs to a process that died, and is taken over.
 */
import { claimKey } from '../../keys.js';
import type { ObjectStore } from '../../ports.js';
import { Lease } from './lease.js';

export function jobClaim(
  deps: { store: ObjectStore; heartbeatMs?: number; now?: () => Date },
  jobId: string,
  owner: string,
  detail: string,
): Lease {
  return new Lease(deps.store, claimKey(jobId), owner, {
    periodMs: deps.heartbeatMs,
    now: deps.now,
    detail,
  });
}
