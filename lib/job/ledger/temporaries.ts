/**
 * What a job leaves under jobs/ID/ while it runs, and its removal when the job ends:
 * everything but status.json (what `wordcount status` reads) and the claim (released
 * by its holder), all under jobs/ID/attempts/. An attempt that ended unpublished removes
 * only its own folder, so one that ended late cannot remove a newer one's. The bucket's
 * lifecycle rule on jobs/ is the safety net for a job whose process died before this ran.
 */
import { messageOf } from '../../errors.js';
import { jobPrefix } from '../../keys.js';
import type { Log } from '../../log.js';
import type { ObjectStore } from '../../ports.js';

/** Deletes every temporary object of a job, of any attempt; logs (does not throw) what it could not. */
export async function removeJobObjects(
  store: ObjectStore,
  jobId: string,
  log?: Log,
): Promise<void> {
  try {
    const keys: string[] = [];
    for await (const info of store.list(`${jobPrefix(jobId)}attempts/`)) keys.push(info.key);
    await store.deleteMany(keys);
  } catch (error) {
    log?.(`job ${jobId}: could not delete its temporary objects: ${messageOf(error)}`, { jobId });
  }
}

/** Deletes what one attempt of a job keeps under jobs/ID/attempts/ATTEMPT/. */
export async function removeAttemptObjects(
  store: ObjectStore,
  prefix: string,
  log?: Log,
): Promise<void> {
  try {
    const keys: string[] = [];
    for await (const info of store.list(prefix)) keys.push(info.key);
    await store.deleteMany(keys);
  } catch (error) {
    log?.(`${store.uri(prefix)}: could not delete the attempt's objects: ${messageOf(error)}`);
  }
}
