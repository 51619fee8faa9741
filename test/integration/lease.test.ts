/** The lease (the distributed lock on conditional writes) on real files, with real timers (one test steps them by hand). */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { FileObjectStore } from '../../lib/adapters/file-store.js';
import { Lease } from '../../lib/job/ledger/lease.js';
import { ObservedStore } from '../support/observed-store.js';

let files: FileObjectStore;
let n = 0;

beforeAll(async () => {
  files = new FileObjectStore(await mkdtemp(join(tmpdir(), 'wordcount-lease-')));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Lease', () => {
  it('of takers racing for a free or stale lease, exactly one holds it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 6 }), fc.boolean(), async (takers, stale) => {
        const key = `race-${n++}.lease`;
        if (stale) {
          await files.put(
            key,
            JSON.stringify({ owner: 'dead', heartbeatAt: new Date(0).toISOString() }),
          );
        }
        const leases = Array.from(
          { length: takers },
          (_, i) => new Lease(files, key, `t${i}`, { periodMs: 1000 }),
        );
        const results = await Promise.all(leases.map((l) => l.acquire()));
        expect(results.filter((r) => r.held)).toHaveLength(1);
        const holder = JSON.parse(new TextDecoder().decode(await files.get(key))) as {
          owner: string;
        };
        expect(holder.owner).toBe(`t${results.findIndex((r) => r.held)}`);
      }),
      { numRuns: 25 },
    );
  });

  it('keeps the lease through a renewal that fails once, and reports it lost once taken over', async () => {
    const store = new ObservedStore(files);
    const key = `renew-${n++}.lease`;
    // Periods long enough that a loaded machine's timers do not make one failure look like two.
    const lease = new Lease(store, key, 'holder', { periodMs: 250 });
    expect((await lease.acquire()).held).toBe(true);
    const lost: string[] = [];
    // The next renewal fails (an S3 500, say) before it lands.
    store.failWrite({ key: new RegExp(`^${key}$`), landed: false });
    lease.keepAlive((reason) => lost.push(reason));
    await sleep(1200);
    expect(lost).toEqual([]);
    // Still ours: another taker finds it live.
    expect((await new Lease(files, key, 'other', { periodMs: 250 }).acquire()).held).toBe(false);
    // Taken over (written by someone else): the next renewal reports it lost, once.
    await files.put(key, JSON.stringify({ owner: 'thief', heartbeatAt: new Date().toISOString() }));
    for (let waited = 0; lost.length === 0 && waited < 5000; waited += 50) await sleep(50);
    await sleep(600);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatch(/taken over/);
    lease.stop();
  });

  it('gives the lease up when renewals keep failing, before anyone may take it over', async () => {
    const store = new ObservedStore(files);
    const key = `failing-${n++}.lease`;
    const periodMs = 1000;
    const lease = new Lease(store, key, 'holder', { periodMs });
    expect((await lease.acquire()).held).toBe(true);
    // The holder's clock and timers, stepped by hand: no machine load can move them.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    try {
      // Every renewal fails before it lands (an S3 outage, say).
      for (let i = 0; i < 20; i++) store.failWrite({ key: new RegExp(`^${key}$`), landed: false });
      const lost: string[] = [];
      lease.keepAlive((reason) => lost.push(reason));
      // Renewals every half period; still holding through one period of failures...
      for (const at of [0.5, 1]) {
        await vi.advanceTimersByTimeAsync(periodMs / 2);
        expect(lost, `at ${at} periods`).toEqual([]);
      }
      // ...given up at one and a half, before its heartbeat is two periods old (stale).
      await vi.advanceTimersByTimeAsync(periodMs / 2);
      expect(lost).toHaveLength(1);
      expect(lost[0]).toMatch(/could not be renewed/);
      const taker = new Lease(files, key, 'taker', { periodMs });
      expect((await taker.acquire()).held).toBe(false);
      // And it stopped: no more renewals, no second report.
      await vi.advanceTimersByTimeAsync(3 * periodMs);
      expect(lost).toHaveLength(1);
    } finally {
      vi.useRealTimers();
      lease.stop();
    }
  });

  it('releases the lease even while a renewal is in flight: the key is gone afterwards', async () => {
    const key = `release-${n++}.lease`;
    // A store whose writes land at once but whose answers come back late, as over a slow
    // network: a renewal has written the key, and its new etag is not known yet.
    let lateMs = 0;
    const slow = Object.create(files) as FileObjectStore;
    slow.put = async (...args: Parameters<FileObjectStore['put']>) => {
      const written = await files.put(...args);
      await sleep(lateMs);
      return written;
    };
    for (let round = 0; round < 5; round++) {
      const lease = new Lease(slow, key, 'holder', { periodMs: 20 });
      lateMs = 0;
      expect((await lease.acquire()).held).toBe(true);
      lateMs = 60;
      lease.keepAlive(() => undefined);
      // The first renewal starts at 20 ms, lands at once and answers at 80 ms.
      await sleep(40);
      await lease.release();
      await expect(files.head(key)).rejects.toThrow(/no such file/);
    }
  });
});
