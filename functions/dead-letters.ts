/**
 * Dead-letter Lambda. Two kinds of letters come here:
 * - a task message that failed on every delivery (the task queue's redrive) fails its
 *   job, with the task's last error as the reason; the job publishes nothing and its
 *   temporary objects are removed. One that was only throttled is left to the watchdog.
 * - an S3 notification whose orchestrator invocation failed on every attempt (Lambda's
 *   on-failure destination) records the upload failed, unless a job of it is active.
 * Anything else has no job to fail: it is logged and dropped.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { Resource } from 'sst';
import { createS3Client, pathStyleFor } from '../lib/adapters/aws-clients.js';
import { createLogger, logTo, taskKeys, withLogKeys } from '../lib/adapters/powertools.js';
import { S3ObjectStore } from '../lib/adapters/s3-store.js';
import { counterConfig, sstLinksActive } from '../lib/config.js';
import {
  type FailedInvocation,
  FailedInvocationSchema,
  S3EventSchema,
} from '../lib/contracts/events.js';
import { QueueMessageSchema } from '../lib/contracts/queue.js';
import { handleDeadLetter } from '../lib/job/queue/ending.js';
import { recordFailedStart } from '../lib/job/uploads.js';
import { createdObjects } from '../lib/keys.js';

const config = counterConfig(
  process.env,
  sstLinksActive(process.env) ? { bucket: Resource.Data.name } : {},
);
const store = new S3ObjectStore(
  createS3Client({ maxSockets: 8, forcePathStyle: pathStyleFor(process.env) }),
  config.bucket,
);
const processor = new BatchProcessor(EventType.SQS);
const logger = createLogger();

async function deadLetter(record: SQSRecord, context?: Context): Promise<void> {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    body = undefined;
  }
  const failed = FailedInvocationSchema.safeParse(body);
  if (failed.success) {
    await failedStart(failed.data, context);
    return;
  }
  const message = QueueMessageSchema.safeParse(body);
  if (!message.success) {
    logger.error(`dead letter ${record.messageId} is not a task queue message; dropped`, {
      body: record.body.slice(0, 200),
    });
    return;
  }
  await withLogKeys(logger, context, { ...taskKeys(body), messageId: record.messageId }, () =>
    handleDeadLetter(
      { store, heartbeatMs: config.heartbeatMs, log: logTo(logger) },
      message.data,
      record.messageId,
    ),
  );
}

/** An upload whose orchestrator invocation failed on every attempt. */
async function failedStart(letter: FailedInvocation, context?: Context): Promise<void> {
  const event = S3EventSchema.safeParse(letter.requestPayload);
  if (!event.success) {
    logger.error('a failed invocation that is not an S3 notification; dropped');
    return;
  }
  const error = letter.responsePayload?.errorMessage ?? 'no error was reported';
  for (const upload of createdObjects(event.data)) {
    if (upload.bucket !== config.bucket) continue;
    await withLogKeys(logger, context, { source: store.uri(upload.key) }, async () => {
      logger.warn(
        await recordFailedStart(
          { store, bucket: config.bucket, log: logTo(logger) },
          upload,
          error,
        ),
      );
    });
  }
}

export async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  return processPartialResponse(
    event,
    (record: SQSRecord) => deadLetter(record, context),
    processor,
    {
      context,
    },
  );
}
