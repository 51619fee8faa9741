/** A job's status record, jobs/ID/status.json: what `wordcount status` reads. */
import { type JobStatus, JobStatusSchema, parsePayload } from '../contracts.js';
import {
  ConditionalConflictError,
  ObjectNotFoundError,
  PreconditionFailedError,
} from '../errors.js';
import { statusKey } from '../keys.js';
import type { ObjectStore } from '../ports.js';
import { readJson } from './prepare.js';

/** Attempts at a status change that keeps losing its compare-and-swap. */
const MAX_ATTEMPTS = 10;
const decoder = new TextDecoder();

export const isTerminal = (state: JobStatus['state']): boolean =>
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

export async function writeStatus(store: ObjectStore, status: JobStatus, now: Date): Promise<void> {
  status.updatedAt = now.toISOString();
  await store.put(statusKey(status.jobId), JSON.stringify(status, null, 2), {
    contentType: 'application/json',
  });
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
    let etag: string;
    let status: JobStatus;
    try {
      etag = (await deps.store.head(key)).etag;
      status = parsePayload(
        JobStatusSchema,
        JSON.parse(decoder.decode(await deps.store.get(key))),
        `status of job ${jobId}`,
      );
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return false;
      throw error;
    }
    if (!change(status)) return false;
    status.updatedAt = (deps.now ?? (() => new Date()))().toISOString();
    try {
      await deps.store.put(key, JSON.stringify(status, null, 2), {
        contentType: 'application/json',
        ifMatch: etag,
      });
      return true;
    } catch (error) {
      const raced =
        error instanceof PreconditionFailedError ||
        error instanceof ConditionalConflictError ||
        error instanceof ObjectNotFoundError;
      if (!raced) throw error;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * 2 ** attempt));
    }
  }
  throw new ConditionalConflictError(
    `${deps.store.uri(key)}: still contended after ${MAX_ATTEMPTS} attempts`,
  );
}
