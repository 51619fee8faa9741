/** A TaskQueue fixture over a real SQS API (MiniStack, LocalStack): a fresh queue pair per test. */
import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { SqsTaskQueue } from '../../lib/adapters/sqs-queue.js';
import type { Delivery, QueueFixture } from '../contract/task-queue.js';

const VISIBILITY_SECONDS = 2;
const MAX_RECEIVES = 2;

export function sqsClient(endpoint: string): SQSClient {
  return new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>) {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  const url = QueueUrl ?? '';
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  return { url, arn: Attributes?.QueueArn ?? '' };
}

async function take(
  sqs: SQSClient,
  url: string,
  waitMs: number,
  ack: boolean,
): Promise<Delivery[]> {
  const started = Date.now();
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: Math.min(20, Math.floor(waitMs / 1000)),
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }),
  );
  const deliveries = (out.Messages ?? []).map((m) => {
    const remove = async () => {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    };
    return {
      body: JSON.parse(m.Body ?? 'null') as unknown,
      receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 0),
      ack: remove,
    };
  });
  if (ack) await Promise.all(deliveries.map((d) => d.ack()));
  // A short wait the API cannot express (under a second): wait it out here.
  const rest = waitMs - (Date.now() - started);
  if (deliveries.length === 0 && rest > 0 && waitMs < 1000)
    await new Promise((r) => setTimeout(r, rest));
  return deliveries;
}

/** A queue with a dead-letter queue (redrive after 2 receives) and a 2 s visibility timeout. */
export function sqsFixture(endpoint: string): () => Promise<QueueFixture> {
  return async () => {
    const sqs = sqsClient(endpoint);
    const name = `contract-${randomUUID().slice(0, 8)}`;
    const dead = await createQueue(sqs, `${name}-dead`, {});
    const main = await createQueue(sqs, name, {
      VisibilityTimeout: String(VISIBILITY_SECONDS),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: dead.arn,
        maxReceiveCount: MAX_RECEIVES,
      }),
    });
    return {
      queue: new SqsTaskQueue(sqs, main.url),
      receive: (waitMs) => take(sqs, main.url, waitMs, false),
      deadLetters: async (waitMs) => (await take(sqs, dead.url, waitMs, true)).map((d) => d.body),
      visibilityMs: VISIBILITY_SECONDS * 1000,
      maxReceives: MAX_RECEIVES,
      close: async () => {
        await sqs.send(new DeleteQueueCommand({ QueueUrl: main.url })).catch(() => undefined);
        await sqs.send(new DeleteQueueCommand({ QueueUrl: dead.url })).catch(() => undefined);
        sqs.destroy();
      },
    };
  };
}
