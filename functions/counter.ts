/** Counter Lambda: counts one byte range of one object. */
import { Resource } from 'sst';
import { createS3Client } from '../lib/adapters/aws-clients.js';
import { S3ObjectStore } from '../lib/adapters/s3-store.js';
import { counterConfig, sstLinksActive } from '../lib/config.js';
import { CountRequestSchema, type CountResult, parsePayload } from '../lib/contracts.js';
import { countRange } from '../lib/count-range.js';

const config = counterConfig(
  process.env,
  sstLinksActive(process.env) ? { bucket: Resource.Data.name } : {},
);
const s3 = createS3Client({ maxSockets: 8, forcePathStyle: true });

export async function handler(event: unknown): Promise<CountResult> {
  const request = parsePayload(CountRequestSchema, event, 'count request');
  return countRange(new S3ObjectStore(s3, request.bucket ?? config.bucket), request);
}
