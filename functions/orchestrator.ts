/**
 * Orchestrator Lambda: an S3 ObjectCreated notification (one job per upload; a
 * `.manifest.json` upload is a job over the objects it names), a direct invocation
 * `{bucket, key | prefix | keys, mode?, chunkSize?, top?, force?}`, or the schedule's
 * `{"watchdog": "sweep"}`. The use cases are lib/job/orchestrator.ts's; this builds the
 * clients once and hands each event to one of them.
 */
import type { Context } from 'aws-lambda';
import { Resource } from 'sst';
import {
  createLambdaClient,
  createS3Client,
  createSqsClient,
  pathStyleFor,
} from '../lib/adapters/aws-clients.js';
import { LambdaRunner } from '../lib/adapters/lambda-runner.js';
import {
  createLogger,
  createMetrics,
  logTo,
  publishJobMetrics,
  taskKeys,
  withLogKeys,
} from '../lib/adapters/powertools.js';
import { S3ObjectStore } from '../lib/adapters/s3-store.js';
import { SqsTaskQueue } from '../lib/adapters/sqs-queue.js';
import { memoryOf, orchestratorConfig, sstLinksActive } from '../lib/config.js';
import { S3EventSchema, SweepEventSchema } from '../lib/contracts/events.js';
import { parsePayload } from '../lib/contracts/parse.js';
import { JobRequestSchema, startRequestOf } from '../lib/contracts/requests.js';
import { RequestMeter } from '../lib/cost/request-meter.js';
import { JobFailedError, messageOf } from '../lib/errors.js';
import { orchestrator } from '../lib/job/orchestrator.js';
import type { InvocationContext } from '../lib/job/rpc/deps.js';
import { createdObjects } from '../lib/keys.js';

const config = orchestratorConfig(
  process.env,
  sstLinksActive(process.env)
    ? {
        bucket: Resource.Data.name,
        counterFunction: Resource.Counter.name,
        queueUrl: Resource.Tasks.url,
      }
    : {},
);
const meter = new RequestMeter();
const s3 = createS3Client({ maxSockets: 32, forcePathStyle: pathStyleFor(process.env), meter });
const logger = createLogger();
const log = logTo(logger);
const metrics = createMetrics();
const use = orchestrator({
  config,
  storeOf: (bucket) => new S3ObjectStore(s3, bucket),
  ...(config.coordination === 'rpc'
    ? {
        runner: new LambdaRunner(createLambdaClient({ maxSockets: config.concurrency, meter }), {
          concurrency: config.concurrency,
          timeoutMs: config.taskTimeoutMs,
          onRetry: ({ attempt, reason, payload }) =>
            log(`a task is invoked again (attempt ${attempt})`, { ...taskKeys(payload), reason }),
        }),
      }
    : { queue: new SqsTaskQueue(createSqsClient({ maxSockets: 16, meter }), config.queueUrl) }),
  meter,
  log,
  onPublished: (summary) => publishJobMetrics(metrics, summary, config.coordination),
});

const invocationOf = (context?: Context): InvocationContext => ({
  owner: context?.awsRequestId,
  memoryMb: memoryOf(context, config.memoryMb),
  remainingMs: context && (() => context.getRemainingTimeInMillis()),
});

export async function handler(event: unknown, context?: Context) {
  const invocation = invocationOf(context);
  if (SweepEventSchema.safeParse(event).success) {
    return withLogKeys(logger, context, { watchdog: 'sweep' }, async () => ({
      swept: (await use.sweep(invocation)).length,
    }));
  }
  if (typeof event === 'object' && event !== null && 'Records' in event) {
    const failures: string[] = [];
    for (const upload of createdObjects(parsePayload(S3EventSchema, event, 'S3 event'))) {
      const source = `s3://${upload.bucket}/${upload.key}`;
      await withLogKeys(logger, context, { source }, async () => {
        try {
          log(await use.upload(upload, invocation));
        } catch (error) {
          logger.error(`${source}: ${messageOf(error)}`, { error });
          failures.push(messageOf(error));
        }
      });
    }
    // One failure fails the invocation: Lambda retries it, and the jobs that succeeded
    // answer from their output.
    if (failures.length > 0) throw new JobFailedError(failures.join('; '));
    return undefined;
  }
  const { bucket, ...request } = startRequestOf(
    parsePayload(JobRequestSchema, event, 'job request'),
  );
  return withLogKeys(logger, context, {}, async () => {
    try {
      return await use.answer(bucket, request, invocation);
    } catch (error) {
      logger.error(messageOf(error), { error });
      throw error;
    }
  });
}
