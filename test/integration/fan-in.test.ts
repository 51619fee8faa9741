/**
 * The queue's fan-in on real files (ledger.phaseComplete): tasks that commit in any order,
 * at once, and crash between their commit and their look, always leave the phase seen
 * complete, never before its last commit, in a number of requests linear in the tasks.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lib/adapters/file-store.js';
import { RequestMeter } from '../../lib/cost/request-meter.js';
import { JobLedger } from '../../lib/job/ledger/attempt-ledger.js';
import { COMMIT_GROUP } from '../../lib/keys.js';

let root: string;
let n = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'wordcount-fan-in-'));
});

function world() {
  const meter = new RequestMeter();
  const store = new FileObjectStore(root, { meter });
  const ledger = new JobLedger(store, `job${n++}`, 'a1');
  const lists = () => meter.snapshot()['s3:ListObjectsV2'] ?? 0;
  return { ledger, meter, lists };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('fan-in in grouped commits', () => {
  it('is seen complete by some task, only once every task committed, whatever the order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 * COMMIT_GROUP + 7 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 64 }),
        async (tasks, seed, width) => {
          const { ledger } = world();
          // A shuffled order, run `width` at a time, each task pausing 0-2 ms between its
          // commit and its look, so commits and looks interleave.
          const order = Array.from({ length: tasks }, (_, i) => i);
          let s = seed;
          const random = () => {
            s = (s * 1103515245 + 12345) % 2 ** 31;
            return s / 2 ** 31;
          };
          for (let i = order.length - 1; i > 0; i--) {
            const j = Math.floor(random() * (i + 1));
            [order[i], order[j]] = [order[j] as number, order[i] as number];
          }
          let committed = 0;
          const saw: number[] = [];
          let next = 0;
          await Promise.all(
            Array.from({ length: width }, async () => {
              while (next < order.length) {
                const index = order[next++] as number;
                expect(await ledger.commit('map', index, { index })).toBe(true);
                committed++;
                await pause(Math.floor(random() * 3));
                if (await ledger.phaseComplete('map', tasks, index)) {
                  saw.push(index);
                  // Seen complete only when it is.
                  expect((await ledger.commits('map')).count).toBe(tasks);
                }
              }
            }),
          );
          expect(committed).toBe(tasks);
          expect(saw.length).toBeGreaterThanOrEqual(1);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('is never seen complete with one task missing, by a task or by the watchdog', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 2, max: 2 * COMMIT_GROUP + 3 })
          .chain((tasks) => fc.tuple(fc.constant(tasks), fc.integer({ min: 0, max: tasks - 1 }))),
        async ([tasks, missing]) => {
          const { ledger } = world();
          for (let i = 0; i < tasks; i++) {
            if (i === missing) continue;
            await ledger.commit('map', i, { i });
            expect(await ledger.phaseComplete('map', tasks, i)).toBe(false);
          }
          expect(await ledger.phaseComplete('map', tasks)).toBe(false);
          // The missing task's duplicate commits at last: now it is complete.
          await ledger.commit('map', missing, { missing });
          expect(await ledger.phaseComplete('map', tasks, missing)).toBe(true);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('is found complete by a redelivery or the watchdog when every task died after its commit', async () => {
    const tasks = 2 * COMMIT_GROUP + 30;
    const first = world();
    for (let i = 0; i < tasks; i++) await first.ledger.commit('reduce', i, { i });
    // Nobody looked: the watchdog looks at every group and marks them.
    expect(await first.ledger.phaseComplete('reduce', tasks)).toBe(true);
    const second = world();
    for (let i = 0; i < tasks; i++) await second.ledger.commit('reduce', i, { i });
    // A redelivered message of task 5 finds its commit and looks again.
    expect(await second.ledger.phaseComplete('reduce', tasks, 5)).toBe(false);
    // Its group is marked; the others wait for their own redeliveries.
    for (const i of [COMMIT_GROUP, 2 * COMMIT_GROUP + 29]) {
      expect(await second.ledger.phaseComplete('reduce', tasks, i)).toBe(
        i === 2 * COMMIT_GROUP + 29,
      );
    }
  });

  it('lists a constant number of pages per task, where one listing of every commit per task grew with the phase', async () => {
    const perTask: number[] = [];
    for (const tasks of [100, 500, 1500]) {
      const { ledger, lists } = world();
      for (let i = 0; i < tasks; i++) {
        await ledger.commit('map', i, { i });
        await ledger.phaseComplete('map', tasks, i);
      }
      perTask.push(lists() / tasks);
    }
    // One page of its group, and one of the marks for the last of each group.
    for (const p of perTask) expect(p).toBeLessThanOrEqual(1 + 1 / COMMIT_GROUP + 1e-9);
    expect(perTask[2]).toBeLessThanOrEqual((perTask[0] as number) + 1e-9);
  });
});
