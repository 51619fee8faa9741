/**
 * Counter Lambda: runs the tasks of jobs. Invoked directly (RPC coordination) with one
 * task request, it returns the task's result. Fed by the task queue (queue
 * coordination), it runs each message's task, commits the result and, when the task
 * completes its phase, starts the next; a message that fails is reported in the
 * partial batch response and comes back after the visibility timeout.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { Resource } from 'sst';
import { createS3Client, createSqsClient, pathStyleFor } from '../lib/adapters/aws-clients.js';
import { S3ObjectStore } from '../lib/adapters/s3-store.js';
import { SqsTaskQueue } from '../lib/adapters/sqs-queue.js';
import { counterConfig, sstLinksActive } from '../lib/config.js';
import type { FinalizeResult, MapResult, ReduceResult } from '../lib/contracts.js';
import { UsageError } from '../lib/errors.js';
import { handleQueueMessage, type QueueDeps } from '../lib/job/queue-driver.js';
import { runTask } from '../lib/job/task.js';

const config = counterConfig(
  process.env,
  sstLinksActive(process.env) ? { bucket: Resource.Data.name, queueUrl: Resource.Tasks.url } : {},
);
const s3 = createS3Client({ maxSockets: 16, forcePathStyle: pathStyleFor(process.env) });
const processor = new BatchProcessor(EventType.SQS);
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
    queue: new SqsTaskQueue(createSqsClient({ maxSockets: 8 }), config.queueUrl),
    runTask: (request) => runTask({ source: store, work: store }, request),
    heartbeatMs: config.heartbeatMs,
    log: (message) => console.log(message),
  };
  return queued;
}

const isSqsEvent = (event: unknown): event is SQSEvent =>
  typeof event === 'object' &&
  event !== null &&
  'Records' in event &&
  Array.isArray(event.Records) &&
  event.Records.every((r: { eventSource?: string }) => r?.eventSource === 'aws:sqs');

/** The error's name leads its message, as the orchestrator and the queue driver read it. */
function named(error: unknown): unknown {
  // Lambda reports the name as the errorType, but emulators report every error as
  // Runtime.HandlerError, and the caller decides from the name whether to retry.
  if (error instanceof Error && !error.message.startsWith(`${error.name}: `)) {
    error.message = `${error.name}: ${error.message}`;
  }
  return error;
}

export async function handler(
  event: unknown,
  context?: Context,
): Promise<MapResult | ReduceResult | FinalizeResult | SQSBatchResponse> {
  if (isSqsEvent(event)) {
    const deps = queueDeps();
    // One task at a time: a task uses the function's memory and cores by itself.
    return processPartialResponse(
      event,
      (record: SQSRecord) => handleQueueMessage(deps, JSON.parse(record.body), record.messageId),
      processor,
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
  try {
    return await runTask({ source: store, work: store }, event);
  } catch (error) {
    throw named(error);
  }
}
