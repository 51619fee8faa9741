/**
 * Where a job is, for `wordcount status` and for a CLI waiting on a queued job: its
 * status record and, while it runs, its phase and the tasks committed of those planned
 * (queue coordination: counted from the ledger; RPC: what the orchestrator recorded).
 */
import type { JobStatus } from '../contracts.js';
import { latestJobKey } from '../keys.js';
import type { ObjectStore } from '../ports.js';
import { JobLedger } from './ledger.js';
import { readJson } from './prepare.js';
import { readStatus } from './status.js';

export interface PhaseProgress {
  phase: 'map' | 'reduce' | 'finalize';
  committed: number;
  tasks: number;
}

export interface JobReport {
  status: JobStatus;
  /** While the job runs. */
  progress?: PhaseProgress;
}

/** The id of the job that last started for an output (jobs/latest/SUMMARYKEY). */
export async function latestJobId(
  store: ObjectStore,
  summaryKey: string,
): Promise<string | undefined> {
  const pointer = (await readJson(store, latestJobKey(summaryKey))) as
    | { jobId?: unknown }
    | undefined;
  return typeof pointer?.jobId === 'string' ? pointer.jobId : undefined;
}

async function queuedProgress(
  store: ObjectStore,
  jobId: string,
  attempt: string,
): Promise<PhaseProgress | undefined> {
  const ledger = new JobLedger(store, jobId, attempt);
  const job = await ledger.readJob();
  if (!job) return undefined;
  for (const phase of ['finalize', 'reduce'] as const) {
    const tasks = (await ledger.phase(phase))?.tasks;
    if (tasks !== undefined) return { phase, committed: await ledger.committed(phase), tasks };
  }
  return { phase: 'map', committed: await ledger.committed('map'), tasks: job.mapTasks };
}

function recordedProgress(status: JobStatus): PhaseProgress {
  const { tasks } = status;
  return tasks.reduce > 0
    ? { phase: 'reduce', committed: tasks.reduceDone, tasks: tasks.reduce }
    : { phase: 'map', committed: tasks.mapDone, tasks: tasks.map };
}

/** The job's status and progress; undefined when it has no status record. */
export async function jobReport(store: ObjectStore, jobId: string): Promise<JobReport | undefined> {
  const status = await readStatus(store, jobId);
  if (!status) return undefined;
  if (status.state !== 'running') return { status };
  const progress =
    status.coordination === 'queue' && status.attempt
      ? await queuedProgress(store, jobId, status.attempt)
      : recordedProgress(status);
  return progress ? { status, progress } : { status };
}
