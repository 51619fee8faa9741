import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../lib/concurrency.js';

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
