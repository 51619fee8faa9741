/**
 * Dead-letter Lambda (queue coordination): a task message that failed on every
 * delivery fails its job, with the task's last error as the reason; the job publishes
 * nothing and its temporary objects are removed. A message that is not a task message
 * has no job to fail: it is logged and dropped.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { Resource } from 'sst';
import { createS3Client, pathStyleFor } from '../lib/adapters/aws-clients.js';
import { createLogger, logTo, taskKeys, withLogKeys } from '../lib/adapters/powertools.js';
import { S3ObjectStore } from '../lib/adapters/s3-store.js';
import { counterConfig, sstLinksActive } from '../lib/config.js';
import { handleDeadLetter } from '../lib/job/queue-driver.js';
import { QueueMessageSchema } from '../lib/queue-contracts.js';

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
