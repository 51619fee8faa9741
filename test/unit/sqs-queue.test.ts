/** The SQS task queue: batches within SQS's limits, and what it does with entries SQS fails. */
import type { SQSClient } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_BATCH_BYTES,
  MAX_BATCH_ENTRIES,
  packBatches,
  QueueSendError,
  SqsTaskQueue,
} from '../../lib/adapters/sqs-queue.js';

describe('packBatches', () => {
  it('keeps every body, in order, in batches of at most 10 entries and 256 KiB', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: MAX_BATCH_BYTES }), { maxLength: 60 }),
        (sizes) => {
          const bodies = sizes.map((n, i) => `${i}`.padEnd(n, 'x'));
          const batches = packBatches(bodies);
          expect(batches.flat()).toEqual(bodies);
          for (const batch of batches) {
            expect(batch.length).toBeGreaterThan(0);
            expect(batch.length).toBeLessThanOrEqual(MAX_BATCH_ENTRIES);
            expect(batch.reduce((n, b) => n + Buffer.byteLength(b), 0)).toBeLessThanOrEqual(
              MAX_BATCH_BYTES,
            );
          }
          // Greedy: a batch closes only when the next body would not fit.
          for (let i = 0; i + 1 < batches.length; i++) {
            const batch = batches[i] as string[];
            const next = (batches[i + 1] as string[])[0] as string;
            const bytes = batch.reduce((n, b) => n + Buffer.byteLength(b), 0);
            expect(
              batch.length === MAX_BATCH_ENTRIES ||
                bytes + Buffer.byteLength(next) > MAX_BATCH_BYTES,
            ).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses a message over 256 KiB', () => {
    expect(() => packBatches(['x'.repeat(MAX_BATCH_BYTES + 1)])).toThrow(/over SQS's 256 KiB/);
  });
});

type Entry = { Id: string; MessageBody: string };
type Failure = { Id: string; SenderFault: boolean; Code: string; Message?: string };

/** A client that answers SendMessageBatch with what `answer` says about each call. */
function client(answer: (entries: Entry[], call: number) => Failure[]) {
  const calls: Entry[][] = [];
  const fake = {
    async send(command: { input: { Entries: Entry[] } }) {
      calls.push(command.input.Entries);
      return { Failed: answer(command.input.Entries, calls.length) };
    },
  };
  return { calls, client: fake as unknown as SQSClient };
}

const noSleep = async () => undefined;

describe('SqsTaskQueue', () => {
  it('sends the entries SQS failed on its side again, and only those', async () => {
    const { calls, client: c } = client((entries, call) =>
      call === 1
        ? [{ Id: entries[1]?.Id as string, SenderFault: false, Code: 'InternalError' }]
        : [],
    );
    await new SqsTaskQueue(c, 'https://q/tasks', noSleep).send([{ a: 1 }, { b: 2 }, { c: 3 }]);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.map((e) => e.MessageBody)).toEqual(['{"b":2}']);
  });

  it('fails naming the queue and the reason when SQS refuses an entry', async () => {
    const { client: c } = client((entries) => [
      {
        Id: entries[0]?.Id as string,
        SenderFault: true,
        Code: 'InvalidMessageContents',
        Message: 'bad',
      },
    ]);
    const send = new SqsTaskQueue(c, 'https://q/tasks', noSleep).send([{ a: 1 }]);
    await expect(send).rejects.toThrow(QueueSendError);
    await expect(send).rejects.toThrow(
      /https:\/\/q\/tasks: 1 of 1 message\(s\) not sent: InvalidMessageContents: bad/,
    );
  });

  it('gives up after its attempts when SQS keeps failing an entry', async () => {
    const { calls, client: c } = client((entries) => [
      { Id: entries[0]?.Id as string, SenderFault: false, Code: 'ServiceUnavailable' },
    ]);
    await expect(new SqsTaskQueue(c, 'https://q/tasks', noSleep).send([{ a: 1 }])).rejects.toThrow(
      /not sent after 5 attempts: ServiceUnavailable/,
    );
    expect(calls).toHaveLength(5);
  });
});
