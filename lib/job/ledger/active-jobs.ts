/**
 * The index of jobs that started and have not ended: jobs/active/JOBID.json, written
 * before a job's claim (so no start leaves state that nothing will look at) and removed
 * once its outcome is recorded. The watchdog (watchdog.ts) sweeps it.
 */
import { parsePayload } from '../../contracts/parse.js';
import { type ActiveJob, ActiveJobSchema } from '../../contracts/requests.js';
import { ObjectNotFoundError, PreconditionFailedError } from '../../errors.js';
import { ACTIVE_JOBS_PREFIX, activeJobKey } from '../../keys.js';
import type { ObjectStore } from '../../ports.js';

const json = { contentType: 'application/json' };
const decoder = new TextDecoder();

/** Records the job active, unless it is already (a restart keeps its count). */
export async function markActive(
  store: ObjectStore,
  job: Omit<ActiveJob, 'restarts' | 'since'>,
  now: Date,
): Promise<void> {
  const record: ActiveJob = { ...job, since: now.toISOString(), restarts: 0 };
  try {
    await store.put(activeJobKey(job.jobId), JSON.stringify(record), {
      ...json,
      ifNoneMatch: true,
    });
  } catch (error) {
    if (!(error instanceof PreconditionFailedError)) throw error;
  }
}

/** The job ended (its outcome is recorded): nothing for the watchdog to look at. */
export async function clearActive(store: ObjectStore, jobId: string): Promise<void> {
  await store.delete(activeJobKey(jobId));
}

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
    const { etag } = await store.head(key);
    const value: unknown = JSON.parse(decoder.decode(await store.get(key)));
    return { record: parsePayload(ActiveJobSchema, value, store.uri(key)), etag };
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
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
  try {
    await store.put(
      activeJobKey(entry.record.jobId),
      JSON.stringify({ ...entry.record, restarts }),
      { ...json, ifMatch: entry.etag },
    );
    return restarts;
  } catch (error) {
    if (error instanceof PreconditionFailedError || error instanceof ObjectNotFoundError) {
      return undefined;
    }
    throw error;
  }
}
