/**
 * The TaskQueue contract: what the queue coordination relies on from SQS, run against
 * every implementation (the in-process queue, SQS on MiniStack and on LocalStack).
 * Delivery is at least once; an unacknowledged message comes back after the visibility
 * timeout, counted; after `maxReceives` receives it goes to the dead letters.
 */
import { describe, expect, it } from 'vitest';
import type { TaskQueue } from '../../lib/ports.js';

export interface Delivery {
  body: unknown;
  /** SQS's ApproximateReceiveCount: this delivery included. */
  receiveCount: number;
  ack(): Promise<void>;
}

export interface QueueFixture {
  queue: TaskQueue;
  /** Deliveries that arrive within `waitMs`; any not acknowledged come back later. */
  receive(waitMs: number): Promise<Delivery[]>;
  /** Bodies moved to the dead letters so far. */
  deadLetters(waitMs: number): Promise<unknown[]>;
  /** The fixture's visibility timeout and receives before dead-lettering. */
  visibilityMs: number;
  maxReceives: number;
  close(): Promise<void>;
}

const tagged = (tag: string, i: number) => ({ tag, i, text: `message ${i} é` });

/** Receives until `count` deliveries arrived or `waitMs` passed. */
async function receiveAll(q: QueueFixture, count: number, waitMs: number): Promise<Delivery[]> {
  const got: Delivery[] = [];
  const deadline = Date.now() + waitMs;
  while (got.length < count && Date.now() < deadline) {
    got.push(...(await q.receive(Math.min(1000, deadline - Date.now()))));
  }
  return got;
}

export function taskQueueContract(name: string, make: () => Promise<QueueFixture>): void {
  describe(`TaskQueue contract: ${name}`, () => {
    it('delivers every message sent, intact, past one batch of 10', async () => {
      const q = await make();
      try {
        const sent = Array.from({ length: 25 }, (_, i) => tagged('all', i));
        await q.queue.send(sent);
        const got = await receiveAll(q, 25, 10_000);
        await Promise.all(got.map((d) => d.ack()));
        const bodies = got.map((d) => d.body as { i: number });
        expect(new Set(bodies.map((b) => b.i))).toEqual(new Set(sent.map((m) => m.i)));
        expect(bodies.find((b) => b.i === 7)).toEqual(tagged('all', 7));
        expect(got.every((d) => d.receiveCount === 1)).toBe(true);
      } finally {
        await q.close();
      }
    });

    it('holds a delayed message back for its delay', async () => {
      const q = await make();
      try {
        await q.queue.send([tagged('late', 0)], { delaySeconds: 2 });
        expect(await q.receive(500)).toEqual([]);
        const got = await receiveAll(q, 1, 6000);
        expect(got.map((d) => d.body)).toEqual([tagged('late', 0)]);
        await got[0]?.ack();
      } finally {
        await q.close();
      }
    });

    it('counts messages held back or not yet received as waiting, none once all are acknowledged', async () => {
      const q = await make();
      try {
        await q.queue.send([tagged('held', 0), tagged('held', 1)], { delaySeconds: 2 });
        expect(await q.queue.waiting?.()).toBe(2);
        const got = await receiveAll(q, 2, 8000);
        await Promise.all(got.map((d) => d.ack()));
        expect(got).toHaveLength(2);
        expect(await q.queue.waiting?.()).toBe(0);
      } finally {
        await q.close();
      }
    });

    it('delivers an unacknowledged message again after the visibility timeout, counting receives', async () => {
      const q = await make();
      try {
        await q.queue.send([tagged('again', 0)]);
        const first = await receiveAll(q, 1, 5000);
        expect(first.map((d) => d.receiveCount)).toEqual([1]);
        // Not acknowledged: invisible for the visibility timeout, then back.
        expect(await q.receive(q.visibilityMs / 3)).toEqual([]);
        const second = await receiveAll(q, 1, q.visibilityMs * 4);
        expect(second.map((d) => d.body)).toEqual([tagged('again', 0)]);
        expect(second[0]?.receiveCount).toBe(2);
        await second[0]?.ack();
        expect(await q.receive(q.visibilityMs * 2)).toEqual([]);
      } finally {
        await q.close();
      }
    });

    it('moves a message received maxReceives times unacknowledged to the dead letters', async () => {
      const q = await make();
      try {
        await q.queue.send([tagged('poison', 0)]);
        for (let n = 1; n <= q.maxReceives; n++) {
          const got = await receiveAll(q, 1, q.visibilityMs * 4);
          expect(got.map((d) => d.receiveCount)).toEqual([n]);
        }
        const deadline = Date.now() + q.visibilityMs * 6;
        let dead: unknown[] = [];
        while (dead.length === 0 && Date.now() < deadline) {
          // SQS moves it when a receive would have delivered it again.
          expect(await q.receive(q.visibilityMs)).toEqual([]);
          dead = await q.deadLetters(500);
        }
        expect(dead).toEqual([tagged('poison', 0)]);
      } finally {
        await q.close();
      }
    });

    it("refuses a message over SQS's 256 KiB before sending anything", async () => {
      const q = await make();
      try {
        await expect(q.queue.send([{ big: 'x'.repeat(300 * 1024) }])).rejects.toThrow(/256 KiB/);
        expect(await q.receive(500)).toEqual([]);
      } finally {
        await q.close();
      }
    });
  });
}
