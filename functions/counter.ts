/** Counter Lambda: runs one task of a job, a map task (count slices) or a reduce task. */
import { Resource } from 'sst';
import { createS3Client } from '../lib/adapters/aws-clients.js';
import { S3ObjectStore } from '../lib/adapters/s3-store.js';
import { counterConfig, sstLinksActive } from '../lib/config.js';
import type { FinalizeResult, MapResult, ReduceResult } from '../lib/contracts.js';
import { runTask } from '../lib/job/task.js';

const config = counterConfig(
  process.env,
  sstLinksActive(process.env) ? { bucket: Resource.Data.name } : {},
);
const s3 = createS3Client({ maxSockets: 16, forcePathStyle: true });

export async function handler(event: unknown): Promise<MapResult | ReduceResult | FinalizeResult> {
  const bucket =
    typeof event === 'object' &&
    event !== null &&
    'bucket' in event &&
    typeof event.bucket === 'string'
      ? event.bucket
      : config.bucket;
  const store = new S3ObjectStore(s3, bucket);
  try {
    return await runTask({ source: store, work: store }, event);
  } catch (error) {
    // The error's name leads its message: Lambda reports it as the errorType, but
    // emulators report every error as Runtime.HandlerError, and the orchestrator decides
    // from the name whether another attempt could succeed.
    if (error instanceof Error && !error.message.startsWith(`${error.name}: `)) {
      error.message = `${error.name}: ${error.message}`;
    }
    throw error;
  }
}
