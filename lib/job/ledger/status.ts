/**
 * A job's status record, jobs/ID/status.json: what `wordcount status` reads. Each run of
 * a job is an attempt (RPC: one orchestrator's run; queue: one ledger of tasks), and the
 * record names the attempt it is about. The holder of the job's claim writes an
 * attempt's first record; every change after is a compare-and-swap that names the
 * attempt, so a late writer of an attempt that ended or was replaced changes nothing.
 */
import { backoff } from '../../backoff.js';
import { parsePayload } from '../../contracts/parse.js';
import { type JobStatus, JobStatusSchema } from '../../contracts/status.js';
import {
  ConditionalConflictError,
  ObjectNotFoundError,
  PreconditionFailedError,
} from '../../errors.js';
import { latestJobKey, statusKey } from '../../keys.js';
import { totalBytes } from '../../plan.js';
import type { ObjectStore } from '../../ports.js';
import { readJson, readJsonVersion, writeJson } from '../../stored-json.js';

/** Attempts at a status change that keeps losing its compare-and-swap. */
const MAX_ATTEMPTS = 10;

export type JobState = JobStatus['state'];

export const isTerminal = (state: JobState): boolean =>
  state === 'succeeded' || state === 'superseded' || state === 'failed' || state === 'refused';

export async function readStatus(
  store: ObjectStore,
  jobId: string,
): Promise<JobStatus | undefined> {
  const value = await readJson(store, statusKey(jobId));
  return value === undefined
    ? undefined
    : parsePayload(JobStatusSchema, value, `status of job ${jobId}`);
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

/** The first record of an attempt that runs: what it counts, where its output goes. */
export function runningRecord(attempt: {
  jobId: string;
  attempt: string;
  coordination: 'rpc' | 'queue';
  bucket: string;
  input: { uri: string; etag: string; objects: readonly { size: number }[] };
  mode: JobStatus['mode'];
  chunkSize: number;
  mapTasks: number;
  output: JobStatus['output'];
}): JobStatus {
  return {
    jobId: attempt.jobId,
    state: 'running',
    coordination: attempt.coordination,
    attempt: attempt.attempt,
    input: {
      bucket: attempt.bucket,
      uri: attempt.input.uri,
      etag: attempt.input.etag,
      objects: attempt.input.objects.length,
      bytes: totalBytes(attempt.input.objects),
    },
    mode: attempt.mode,
    chunkSize: attempt.chunkSize,
    updatedAt: '',
    tasks: { map: attempt.mapTasks, mapDone: 0, reduce: 0, reduceDone: 0 },
    output: attempt.output,
  };
}

/**
 * Writes an attempt's first record (its writer holds the job's claim, so no other start
 * writes meanwhile) and points the output's latest job at it.
 */
export async function recordAttempt(
  store: ObjectStore,
  record: JobStatus,
  now: Date,
): Promise<void> {
  await writeJson(
    store,
    statusKey(record.jobId),
    { ...record, updatedAt: now.toISOString() },
    {
      pretty: true,
    },
  );
  await writeJson(store, latestJobKey(record.output.summary), { jobId: record.jobId });
}

/**
 * Changes a job's status with a compare-and-swap (`If-Match` on what was read), retried
 * when another writer got there first. `change` returns false to leave the record as it
 * is (the record is not the one it expected: another attempt's, or ended). Returns
 * whether the change was written.
 */
export async function updateStatus(
  deps: { store: ObjectStore; now?: () => Date },
  jobId: string,
  change: (status: JobStatus) => boolean,
): Promise<boolean> {
  const key = statusKey(jobId);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const read = await readJsonVersion(deps.store, key);
    if (!read) return false;
    const status = parsePayload(JobStatusSchema, read.value, `status of job ${jobId}`);
    if (!change(status)) return false;
    status.updatedAt = (deps.now ?? (() => new Date()))().toISOString();
    try {
      await writeJson(deps.store, key, status, { ifMatch: read.etag, pretty: true });
      return true;
    } catch (error) {
      const raced =
        error instanceof PreconditionFailedError ||
        error instanceof ConditionalConflictError ||
        error instanceof ObjectNotFoundError;
      if (!raced) throw error;
      await backoff(attempt);
    }
  }
  throw new ConditionalConflictError(
    `${deps.store.uri(key)}: still contended after ${MAX_ATTEMPTS} attempts`,
  );
}

/**
 * Changes the status of attempt `attempt` while it is in one of `states`: a late writer
 * of an attempt that ended, or was replaced, changes nothing.
 */
export function updateAttempt(
  deps: { store: ObjectStore; now?: () => Date },
  jobId: string,
  attempt: string,
  change: (status: JobStatus) => void,
  states: readonly JobState[] = ['running'],
): Promise<boolean> {
  return updateStatus(deps, jobId, (s) => {
    if (s.attempt !== attempt || !states.includes(s.state)) return false;
    change(s);
    return true;
  });
}

/** The status while it is about `attempt` and the job still runs. */
export async function runningAttempt(
  store: ObjectStore,
  jobId: string,
  attempt: string,
): Promise<JobStatus | undefined> {
  const status = await readStatus(store, jobId);
  return status?.attempt === attempt && !isTerminal(status.state) ? status : undefined;
}
