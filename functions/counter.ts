/**
 * Counter Lambda: runs the tasks of jobs. Invoked directly (RPC coordination) with one
 * task request, it returns the task's result. Fed by the task queue (queue
 * coordination), it runs each message's task, commits the result and, when the task
 * completes its phase, starts the next; a message that fails is reported in the
 * partial batch response and comes back after the visibility timeout. Every result
 * says what its task used (time, memory, requests): the job's cost.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { Resource } from 'sst';
import { createS3Client, createSqsClient, pathStyleFor } from '../lib/adapters/aws-clients.js';
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
import { counterConfig, memoryOf, sstLinksActive } from '../lib/config.js';
import { isSqsEvent } from '../lib/contracts/events.js';
import type { FinalizeResult, MapResult, ReduceResult } from '../lib/contracts/tasks.js';
import { RequestMeter } from '../lib/cost/request-meter.js';
import { startUsage } from '../lib/cost/usage.js';
import { namedError, UsageError } from '../lib/errors.js';
import type { QueueDeps } from '../lib/job/queue/deps.js';
import { handleQueueMessage } from '../lib/job/queue/task-messages.js';
import { runTask } from '../lib/job/tasks/run-task.js';

const config = counterConfig(
  process.env,
  sstLinksActive(process.env) ? { bucket: Resource.Data.name, queueUrl: Resource.Tasks.url } : {},
);
const meter = new RequestMeter();
const s3 = createS3Client({ maxSockets: 16, forcePathStyle: pathStyleFor(process.env), meter });
const logger = createLogger();
const metrics = createMetrics();
const processor = new BatchProcessor(EventType.SQS);
/** The invocation under way: its memory and its deadline. */
let invocation: Context | undefined;
const memoryMb = () => memoryOf(invocation, config.memoryMb);
let queued: QueueDeps | undefined;

function queueDeps(): QueueDeps {
  if (!config.queueUrl) {
    throw new UsageError(
      'configuration: environment variable WORDCOUNT_QUEUE_URL is not set, and this counter is fed by a queue',
    );
  }
  const store = new S3ObjectStore(s3, config.bucket);
  queued ??= {
    store,
    queue: new SqsTaskQueue(createSqsClient({ maxSockets: 8, meter }), config.queueUrl),
    runTask: (request) => runTask({ source: store, work: store }, request),
    heartbeatMs: config.heartbeatMs,
    log: logTo(logger),
    measure: () => startUsage(meter, memoryMb()),
    remainingMs: () => invocation?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY,
    prices: config.prices,
    onPublished: (summary) => publishJobMetrics(metrics, summary, 'queue'),
  };
  return queued;
}

/** One queue message, its log lines keyed by its job and task; a failure is logged, then retried. */
async function message(deps: QueueDeps, record: SQSRecord, context?: Context): Promise<void> {
  const body: unknown = JSON.parse(record.body);
  const keys = { ...taskKeys(body), messageId: record.messageId };
  await withLogKeys(logger, context, keys, async () => {
    try {
      const deliveries = Number(record.attributes?.ApproximateReceiveCount ?? 1);
      await handleQueueMessage(deps, body, record.messageId, deliveries);
    } catch (error) {
      logger.warn('task message failed; it comes back after the visibility timeout', { error });
      throw error;
    }
  });
}

export async function handler(
  event: unknown,
  context?: Context,
): Promise<MapResult | ReduceResult | FinalizeResult | SQSBatchResponse> {
  invocation = context;
  if (isSqsEvent<SQSEvent>(event)) {
    const deps = queueDeps();
    // One task at a time: a task uses the function's memory and cores by itself.
    return processPartialResponse(
      event,
      (record: SQSRecord) => message(deps, record, context),
      processor,
      // A failed message of a batch of one throws (FullBatchFailureError): Lambda's Errors
      // metric then counts it, and the queue delivers it again.
      { context, processInParallel: false },
    );
  }
  const bucket =
    typeof event === 'object' &&
    event !== null &&
    'bucket' in event &&
    typeof event.bucket === 'string'
      ? event.bucket
      : config.bucket;
  const store = new S3ObjectStore(s3, bucket);
  return withLogKeys(logger, context, taskKeys(event), async () => {
    try {
      const result = await runTask(
        { source: store, work: store },
        event,
        startUsage(meter, memoryMb()),
      );
      logger.info(`${result.type} task ${result.index} done`, {
        elapsedMs: Math.round(result.elapsedMs),
      });
      return result;
    } catch (error) {
      logger.error('task failed', { error });
      throw namedError(error);
    }
  });
}
