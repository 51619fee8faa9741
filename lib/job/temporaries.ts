/**
 * What a job leaves under jobs/ID/ while it runs, and its removal when the job ends:
 * everything but status.json (what `wordcount status` reads) and the claim (released
 * by its holder). The bucket's lifecycle rule on jobs/ is the safety net for a job
 * whose process died before this ran.
 */
import { mapLimit } from '../concurrency.js';
import { messageOf } from '../errors.js';
import { jobPrefix, planKey, queuedJobKey, scratchFolders, stagedCountsKey } from '../keys.js';
import type { ObjectStore } from '../ports.js';

/** Keys deleted at once. */
const CLEANUP_CONCURRENCY = 16;

/** Deletes a job's temporary objects; logs (does not throw) what it could not. */
export async function removeJobObjects(
  store: ObjectStore,
  jobId: string,
  log?: (message: string) => void,
): Promise<void> {
  try {
    const keys = [planKey(jobId), stagedCountsKey(jobId), queuedJobKey(jobId)];
    const prefix = jobPrefix(jobId);
    for (const folder of [...scratchFolders(prefix), `${prefix}attempts/`]) {
      for await (const info of store.list(folder)) keys.push(info.key);
    }
    await mapLimit(keys, CLEANUP_CONCURRENCY, (key) => store.delete(key));
  } catch (error) {
    log?.(`job ${jobId}: could not delete its temporary objects: ${messageOf(error)}`);
  }
}
