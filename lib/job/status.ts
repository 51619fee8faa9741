/** A job's status record, jobs/ID/status.json: what `wordcount status` reads. */
import { type JobStatus, JobStatusSchema, parsePayload } from '../contracts.js';
import { statusKey } from '../keys.js';
import type { ObjectStore } from '../ports.js';
import { readJson } from './prepare.js';

export const isTerminal = (state: JobStatus['state']): boolean =>
  state === 'succeeded' || state === 'superseded' || state === 'failed';

export async function readStatus(
  store: ObjectStore,
  jobId: string,
): Promise<JobStatus | undefined> {
  const value = await readJson(store, statusKey(jobId));
  return value === undefined
    ? undefined
    : parsePayload(JobStatusSchema, value, `status of job ${jobId}`);
}

export async function writeStatus(store: ObjectStore, status: JobStatus, now: Date): Promise<void> {
  status.updatedAt = now.toISOString();
  await store.put(statusKey(status.jobId), JSON.stringify(status, null, 2), {
    contentType: 'application/json',
  });
}

/**
 * Changes a queued job's status: read, change, write. The writers take turns (the
 * orchestrator, then each phase's lease holder), so no write is lost to another.
 */
export async function updateStatus(
  deps: { store: ObjectStore; now?: () => Date },
  jobId: string,
  change: (status: JobStatus) => void,
): Promise<void> {
  const status = await readStatus(deps.store, jobId);
  if (!status) return;
  change(status);
  await writeStatus(deps.store, status, (deps.now ?? (() => new Date()))());
}
