/**
 * The adapters the ledger depends on, proven on LocalStack's own S3 and SQS code (run
 * in-process, no Docker) as well as MiniStack's: conditional writes (If-None-Match,
 * If-Match), ranged reads with If-Match, listing pages, multipart, batch sends, redrive.
 */
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, inject } from 'vitest';
import { S3ObjectStore } from '../../lib/adapters/s3-store.js';
import { objectStoreContract } from '../contract/object-store.js';
import { taskQueueContract } from '../contract/task-queue.js';
import { sqsFixture } from '../support/sqs-fixture.js';

const endpoint = inject('localstack');
const bucket = `contract-${randomUUID().slice(0, 8)}`;
const s3 = new S3Client({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  forcePathStyle: true,
});

beforeAll(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(() => s3.destroy());

objectStoreContract('S3ObjectStore on LocalStack', () => ({
  store: new S3ObjectStore(s3, bucket),
  prefix: `run-${randomUUID().slice(0, 6)}`,
}));

taskQueueContract('SqsTaskQueue on LocalStack', sqsFixture(endpoint));
