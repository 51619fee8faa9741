/** The in-process queue against the TaskQueue contract that SQS (MiniStack, LocalStack) meets too. */
import { InProcessQueue } from '../../lib/adapters/in-process-queue.js';
import { type Delivery, type QueueFixture, taskQueueContract } from '../contract/task-queue.js';

const VISIBILITY_MS = 600;
const MAX_RECEIVES = 2;

/** Pulls deliveries from the push queue: a handler waits until the test acknowledges it. */
function inProcessFixture(): Promise<QueueFixture> {
  const arrived: Delivery[] = [];
  const outstanding: (() => void)[] = [];
  const dead: unknown[] = [];
  let wake: (() => void) | undefined;
  const queue = new InProcessQueue({
    concurrency: 50,
    visibilityMs: VISIBILITY_MS,
    maxReceives: MAX_RECEIVES,
    handle: (body, _id, receiveCount) =>
      new Promise<void>((resolve, reject) => {
        arrived.push({
          body,
          receiveCount,
          ack: async () => resolve(),
        });
        // Left unacknowledged at the next receive: the message comes back later.
        outstanding.push(() => reject(new Error('not acknowledged')));
        wake?.();
      }),
    deadLetter: async (body) => {
      dead.push(body);
    },
  });
  return Promise.resolve({
    queue,
    async receive(waitMs) {
      for (const nack of outstanding.splice(0)) nack();
      if (arrived.length === 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, waitMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
      return arrived.splice(0);
    },
    deadLetters: async () => dead.splice(0),
    visibilityMs: VISIBILITY_MS,
    maxReceives: MAX_RECEIVES,
    close: async () => {
      for (const nack of outstanding.splice(0)) nack();
      queue.close();
    },
  });
}

taskQueueContract('InProcessQueue', inProcessFixture);
