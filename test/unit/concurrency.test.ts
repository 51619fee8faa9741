import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inOrder, mapLimit } from '../../lib/concurrency.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('mapLimit', () => {
  it('keeps at most `limit` calls in flight and returns results in order', async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapLimit([1, 2, 3, 4, 5, 6, 7], 3, async (x) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await tick();
      inFlight--;
      return x * 10;
    });
    expect(results).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(peak).toBe(3);
  });

  it('gives each call its own item', async () => {
    const seen: number[] = [];
    await mapLimit([0, 1, 2, 3], 4, async (x, i) => {
      await tick();
      seen.push(x * 100 + i);
    });
    expect(seen.sort((a, b) => a - b)).toEqual([0, 101, 202, 303]);
  });

  it('starts nothing new after a failure and rethrows the first error', async () => {
    const started: number[] = [];
    await expect(
      mapLimit([1, 2, 3, 4, 5], 1, async (x) => {
        started.push(x);
        if (x === 2) throw new Error('boom at 2');
        return x;
      }),
    ).rejects.toThrow('boom at 2');
    expect(started).toEqual([1, 2]);
  });
});

describe('inOrder', () => {
  it('yields every read in order with at most the window in flight, whatever the timing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        async (delays, window) => {
          let inFlight = 0;
          let most = 0;
          const read = async (i: number) => {
            inFlight++;
            most = Math.max(most, inFlight);
            await new Promise((r) => setTimeout(r, delays[i]));
            inFlight--;
            return i;
          };
          const seen: number[] = [];
          for await (const i of inOrder(delays.length, window, read)) {
            // What the consumer holds: this one and the reads ahead, never more than the window.
            expect(inFlight).toBeLessThanOrEqual(window);
            seen.push(i);
          }
          expect(seen).toEqual(delays.map((_, i) => i));
          expect(most).toBeLessThanOrEqual(window);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('surfaces a failed read where its result is due, without an unhandled rejection', async () => {
    const read = async (i: number) => {
      if (i === 3) throw new Error('read 3 failed');
      await new Promise((r) => setTimeout(r, 5));
      return i;
    };
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const i of inOrder(10, 4, read)) seen.push(i);
      })(),
    ).rejects.toThrow('read 3 failed');
    expect(seen).toEqual([0, 1, 2]);
  });
});
