/**
 * Orchestrator Lambda: an S3 ObjectCreated notification (one job per record; a
 * `.manifest.json` upload is a job over the objects it names) or a direct invocation
 * `{bucket, key | prefix | keys, mode?, chunkSize?, top?, force?}`, which returns the
 * summary. It serves only its configured bucket.
 */
import type { Context } from 'aws-lambda';
import { Resource } from 'sst';
import { createLambdaClient, createS3Client } from '../lib/adapters/aws-clients.js';
import { LambdaRunner } from '../lib/adapters/lambda-runner.js';
import { S3ObjectStore } from '../lib/adapters/s3-store.js';
import { orchestratorConfig, sstLinksActive } from '../lib/config.js';
import { JobRequestSchema, parsePayload, S3EventSchema, type Summary } from '../lib/contracts.js';
import { JobFailedError, messageOf, UsageError } from '../lib/errors.js';
import { type JobRequestOptions, runJobOnce } from '../lib/job/orchestrate.js';
import { createdObjects, type InputName } from '../lib/keys.js';

const config = orchestratorConfig(
  process.env,
  sstLinksActive(process.env)
    ? { bucket: Resource.Data.name, counterFunction: Resource.Counter.name }
    : {},
);
const s3 = createS3Client({ maxSockets: 32, forcePathStyle: true });
const runner = new LambdaRunner(createLambdaClient({ maxSockets: config.concurrency }), {
  concurrency: config.concurrency,
  timeoutMs: config.taskTimeoutMs,
});

function run(bucket: string, request: JobRequestOptions, context: Context | undefined) {
  if (bucket !== config.bucket) {
    throw new UsageError(
      `bucket '${bucket}' is not served here: this orchestrator counts s3://${config.bucket}/`,
    );
  }
  return runJobOnce(
    {
      store: new S3ObjectStore(s3, bucket),
      bucket,
      runner,
      taskFunction: config.counterFunction,
      concurrency: config.concurrency,
      defaultChunkSize: config.chunkSize,
      heartbeatMs: config.heartbeatMs,
      log: (message) => console.log(message),
    },
    request,
    {
      owner: context?.awsRequestId,
      remainingMs: context && (() => context.getRemainingTimeInMillis()),
    },
  );
}

export async function handler(event: unknown, context?: Context): Promise<Summary | undefined> {
  if (typeof event === 'object' && event !== null && 'Records' in event) {
    const objects = createdObjects(parsePayload(S3EventSchema, event, 'S3 event'));
    const failures: string[] = [];
    for (const { bucket, key } of objects) {
      try {
        const result = await run(bucket, { input: { kind: 'key', key } }, context);
        console.log(`${result.outcome}: s3://${bucket}/${key} (job ${result.jobId})`);
      } catch (error) {
        failures.push(messageOf(error));
      }
    }
    // One failure fails the invocation: Lambda retries it, and the jobs that succeeded
    // answer from their output.
    if (failures.length > 0) throw new JobFailedError(failures.join('; '));
    return undefined;
  }
  const request = parsePayload(JobRequestSchema, event, 'job request');
  const input: InputName =
    request.key !== undefined
      ? { kind: 'key', key: request.key }
      : request.prefix !== undefined
        ? { kind: 'prefix', prefix: request.prefix }
        : { kind: 'keys', keys: request.keys ?? [] };
  const result = await run(request.bucket, { ...request, input }, context);
  if (result.outcome === 'superseded') {
    throw new JobFailedError(
      `s3://${request.bucket}/: the input changed while job ${result.jobId} counted it; the newer version is counted by its own job`,
    );
  }
  return result.summary;
}
