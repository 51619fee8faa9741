/**
 * The index of jobs that started and have not ended: jobs/active/JOBID.json, written
 * before a job's claim (so no start leaves state that nothing will look at) and removed
 * once its outcome is recorded. The watchdog (watchdog.ts) sweeps it.
 *
 * A job can be run again under the same id (a failed job asked for again), so removing
 * the record races with a new start writing it. Every start stamps the record with when
 * it began (`since`); the record is removed only when the status ended after that, and
 * only if it is still the record that was read (a conditional delete).
 */
import { backoff } from '../../backoff.js';
import { parsePayload } from '../../contracts/parse.js';
import { type ActiveJob, ActiveJobSchema } from '../../contracts/requests.js';
import type { JobStatus } from '../../contracts/status.js';
import { ObjectNotFoundError, PreconditionFailedError } from '../../errors.js';
import { ACTIVE_JOBS_PREFIX, activeJobKey } from '../../keys.js';
import type { ObjectStore } from '../../ports.js';
import { isTerminal, readStatus } from './status.js';

const json = { contentType: 'application/json' };
const decoder = new TextDecoder();
/** Compare-and-swap attempts on one record. */
const MAX_ATTEMPTS = 10;

export interface ActiveEntry {
  record: ActiveJob;
  /** For a compare-and-swap of the record. */
  etag: string;
}

export async function readActive(
  store: ObjectStore,
  jobId: string,
): Promise<ActiveEntry | undefined> {
  const key = activeJobKey(jobId);
  try {
    const { body, etag } = await store.getVersion(key);
    const value: unknown = JSON.parse(decoder.decode(body));
    return { record: parsePayload(ActiveJobSchema, value, store.uri(key)), etag };
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}

/** The result of a conditional request, or undefined when its condition failed (changed, gone). */
async function unlessChanged<T>(request: () => Promise<T>): Promise<T | undefined> {
  try {
    return await request();
  } catch (error) {
    if (error instanceof PreconditionFailedError || error instanceof ObjectNotFoundError) {
      return undefined;
    }
    throw error;
  }
}

/**
 * Writes `record` in place of what `read` found (nothing: create); the etag written, or
 * undefined when the record changed meanwhile.
 */
async function swap(
  store: ObjectStore,
  read: ActiveEntry | undefined,
  record: ActiveJob,
): Promise<string | undefined> {
  const written = await unlessChanged(() =>
    store.put(activeJobKey(record.jobId), JSON.stringify(record), {
      ...json,
      ...(read ? { ifMatch: read.etag } : { ifNoneMatch: true }),
    }),
  );
  return written?.etag;
}

/**
 * Records a start of the job, `now`: the record is written, or stamped with this start
 * (a restart keeps the count of restarts before it). Returns the record's etag, which
 * `removeActive` takes.
 */
export async function markActive(
  store: ObjectStore,
  job: Pick<ActiveJob, 'jobId' | 'coordination' | 'request'>,
  now: Date,
): Promise<string> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const read = await readActive(store, job.jobId);
    const record: ActiveJob = {
      ...job,
      since: now.toISOString(),
      restarts: read?.record.restarts ?? 0,
      ...(read?.record.lastError !== undefined && { lastError: read.record.lastError }),
    };
    const etag = await swap(store, read, record);
    if (etag !== undefined) return etag;
    await backoff(attempt);
  }
  throw new PreconditionFailedError(
    `${store.uri(activeJobKey(job.jobId))}: still contended after ${MAX_ATTEMPTS} attempts`,
  );
}

/**
 * Removes the record if it is still the one with `etag` (not stamped by another start
 * since); whether it did. A start that finds its job answered already (published while
 * it waited for the claim) removes what its markActive wrote.
 */
export async function removeActive(
  store: ObjectStore,
  jobId: string,
  etag: string,
): Promise<boolean> {
  const removed = await unlessChanged(async () => {
    await store.delete(activeJobKey(jobId), { ifMatch: etag });
    return true;
  });
  return removed === true;
}

/**
 * Takes the job off the list if its status ended after its latest start began: a job
 * started again meanwhile keeps its record. `status` is the one just read, if at hand.
 */
export async function clearIfEnded(
  store: ObjectStore,
  jobId: string,
  status?: JobStatus,
): Promise<boolean> {
  const entry = await readActive(store, jobId);
  if (!entry) return false;
  const ended = status ?? (await readStatus(store, jobId));
  if (!ended || !isTerminal(ended.state)) return false;
  if (Date.parse(ended.updatedAt) < Date.parse(entry.record.since)) return false;
  return removeActive(store, jobId, entry.etag);
}

/** The ids of the jobs recorded active. */
export async function* activeJobIds(store: ObjectStore): AsyncGenerator<string> {
  for await (const info of store.list(ACTIVE_JOBS_PREFIX)) {
    const name = info.key.slice(ACTIVE_JOBS_PREFIX.length);
    if (name.endsWith('.json') && !name.includes('/')) yield name.slice(0, -'.json'.length);
  }
}

/**
 * Counts one more restart, if the record is still the one read: of two sweeps that
 * found the same job stopped, one restarts it. Returns the new count, or undefined.
 */
export async function countRestart(
  store: ObjectStore,
  entry: ActiveEntry,
): Promise<number | undefined> {
  const restarts = entry.record.restarts + 1;
  const written = await swap(store, entry, { ...entry.record, restarts });
  return written === undefined ? undefined : restarts;
}

/** Keeps why a restart failed, for the reason the job fails with if it never recovers. */
export async function recordRestartError(
  store: ObjectStore,
  jobId: string,
  error: string,
): Promise<void> {
  const read = await readActive(store, jobId);
  if (read) await swap(store, read, { ...read.record, lastError: error });
}
