/**
 * The task queue on SQS: messages go in SendMessageBatch calls of at most 10 entries
 * and 256 KiB, several batches at once. Entries SQS could not take for its own reasons
 * (throttling, an internal error) are sent again; an entry it refuses as malformed, or
 * one still failing after the last attempt, fails the send, naming the queue and SQS's
 * reason. A resend may deliver a message twice: consumers are built for it.
 */
import {
  GetQueueAttributesCommand,
  type QueueAttributeName,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { mapLimit } from '../concurrency.js';
import { WordcountError } from '../errors.js';
import type { TaskQueue } from '../ports.js';

/** SQS's limits on one SendMessageBatch call and on one message. */
export const MAX_BATCH_ENTRIES = 10;
export const MAX_BATCH_BYTES = 256 * 1024;
/** Batches in flight at once. */
const SEND_CONCURRENCY = 16;
/** Attempts at the entries SQS failed on its side. */
const MAX_ATTEMPTS = 5;

export class QueueSendError extends WordcountError {
  override name = 'QueueSendError';
}

/** Packs bodies into batches within SQS's limits, in order. */
export function packBatches(bodies: readonly string[]): string[][] {
  const batches: string[][] = [];
  let batch: string[] = [];
  let bytes = 0;
  for (const body of bodies) {
    const size = Buffer.byteLength(body);
    if (size > MAX_BATCH_BYTES) {
      throw new RangeError(`a task message of ${size} bytes is over SQS's 256 KiB`);
    }
    if (batch.length === MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(body);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

export class SqsTaskQueue implements TaskQueue {
  constructor(
    private readonly client: SQSClient,
    readonly queueUrl: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((r) => setTimeout(r, ms)),
  ) {}

  async send(messages: readonly unknown[], options: { delaySeconds?: number } = {}): Promise<void> {
    const batches = packBatches(messages.map((m) => JSON.stringify(m)));
    // SQS holds a message back for whole seconds, 0 to 900.
    const delay = Math.min(900, Math.max(0, Math.ceil(options.delaySeconds ?? 0)));
    await mapLimit(batches, SEND_CONCURRENCY, (batch) => this.sendBatch(batch, delay));
  }

  async waiting(): Promise<number> {
    const out = await this.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    const count = (name: QueueAttributeName) => Number(out.Attributes?.[name] ?? 0) || 0;
    return count('ApproximateNumberOfMessages') + count('ApproximateNumberOfMessagesDelayed');
  }

  private async sendBatch(bodies: readonly string[], delay: number): Promise<void> {
    let entries = bodies.map((body, i) => ({
      Id: String(i),
      MessageBody: body,
      ...(delay > 0 && { DelaySeconds: delay }),
    }));
    for (let attempt = 1; ; attempt++) {
      const out = await this.client.send(
        new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }),
      );
      const failed = out.Failed ?? [];
      if (failed.length === 0) return;
      const refused = failed.find((f) => f.SenderFault);
      if (refused || attempt >= MAX_ATTEMPTS) {
        const f = refused ?? (failed[0] as (typeof failed)[number]);
        throw new QueueSendError(
          `${this.queueUrl}: ${failed.length} of ${entries.length} message(s) not sent${refused ? '' : ` after ${attempt} attempts`}: ${f.Code}: ${f.Message ?? 'no reason given'}`,
        );
      }
      const again = new Set(failed.map((f) => f.Id));
      entries = entries.filter((e) => again.has(e.Id));
      await this.sleep(Math.random() * Math.min(5000, 100 * 2 ** attempt));
    }
  }
}
