/**
 * Where a job is, for `wordcount status` and for a CLI waiting on a queued job: its
 * status record and, while it runs, its phase and the tasks committed of those planned
 * (queue coordination: counted from the ledger; RPC: what the orchestrator recorded).
 */
import type { JobStatus } from '../../contracts/status.js';
import { claimKey } from '../../keys.js';
import type { ObjectStore } from '../../ports.js';
import { JobLedger } from './attempt-ledger.js';
import { HEARTBEAT_MS, isStaleLease, leaseHolder } from './lease.js';
import { readStatus } from './status.js';

export interface PhaseProgress {
  phase: 'map' | 'reduce' | 'finalize';
  committed: number;
  tasks: number;
  /** The last sign of progress: a task committed, a phase planned, the record changed. */
  lastProgressAt: string;
  /** RPC: whether the orchestrator running the job still renews its claim. */
  orchestrator?: 'alive' | 'silent';
}

export interface JobView {
  status: JobStatus;
  /** While the job runs. */
  progress?: PhaseProgress;
}

const latest = (...times: (string | Date | undefined)[]): string =>
  new Date(
    Math.max(...times.map((t) => (t === undefined ? 0 : new Date(t).getTime()))),
  ).toISOString();

async function queuedProgress(
  store: ObjectStore,
  status: JobStatus,
  attempt: string,
): Promise<PhaseProgress | undefined> {
  const ledger = new JobLedger(store, status.jobId, attempt);
  const job = await ledger.readJob();
  if (!job) return undefined;
  for (const phase of ['finalize', 'reduce', 'map'] as const) {
    const record = await ledger.phase(phase);
    const tasks = phase === 'map' ? job.mapTasks : record?.tasks;
    if (tasks === undefined) continue;
    const commits = await ledger.commits(phase);
    return {
      phase,
      committed: commits.count,
      tasks,
      lastProgressAt: latest(status.updatedAt, record?.at, commits.lastAt),
    };
  }
  return undefined;
}

async function recordedProgress(store: ObjectStore, status: JobStatus): Promise<PhaseProgress> {
  const { tasks } = status;
  const claim = await leaseHolder(store, claimKey(status.jobId));
  // Judged by the period the holder recorded (this reader does not know the deployment's).
  const alive = claim !== undefined && !isStaleLease(claim, HEARTBEAT_MS, new Date());
  return {
    ...(tasks.reduce > 0
      ? { phase: 'reduce', committed: tasks.reduceDone, tasks: tasks.reduce }
      : { phase: 'map', committed: tasks.mapDone, tasks: tasks.map }),
    lastProgressAt: status.updatedAt,
    orchestrator: alive ? 'alive' : 'silent',
  };
}

/** The job's status and progress; undefined when it has no status record. */
export async function viewJob(store: ObjectStore, jobId: string): Promise<JobView | undefined> {
  const status = await readStatus(store, jobId);
  if (!status) return undefined;
  if (status.state !== 'running') return { status };
  const progress =
    status.coordination === 'queue' && status.attempt
      ? await queuedProgress(store, status, status.attempt)
      : await recordedProgress(store, status);
  return progress ? { status, progress } : { status };
}
