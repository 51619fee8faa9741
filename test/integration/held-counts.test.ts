/**
 * The worker pool as the local CLI runs it: map tasks keep their counts in their
 * thread's table, which each thread hands back once at the end of the map phase, as
 * bytes in a transferred buffer. Real files, real worker threads.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Embedded } from '../support/embedded.js';
import { expectedTsv, singlePassCounts } from '../support/oracle.js';
import { hostileBytes } from '../support/text.js';
import { taskWorkerScript } from '../support/workers.js';

let dir: string;
const pools = new Map<number, Embedded>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wordcount-held-'));
  for (const size of [1, 2, 3]) pools.set(size, await Embedded.create(size, { held: true }));
});

afterAll(async () => {
  for (const pool of pools.values()) await pool.close();
});

async function file(name: string, body: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, body);
  return path;
}

describe('held counts on the worker pool', () => {
  for (const mode of ['words', 'whitespace'] as const) {
    it(`equals the single pass for any chunk size, 1-3 workers, reduced either way (${mode})`, async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(
          hostileBytes,
          fc.integer({ min: 1, max: 200 }),
          fc.integer({ min: 1, max: 3 }),
          fc.constantFrom('auto', 'inline', 'partitioned'),
          async (bytes, chunkSize, workers, reduce) => {
            const path = await file(`${mode}-${n++}.txt`, bytes);
            const pool = pools.get(workers) as Embedded;
            const { summary, tsv } = await pool.count([path], {
              mode,
              chunkSize,
              reduce,
            });
            expect(tsv).toBe(expectedTsv(mode, bytes));
            const single = singlePassCounts(mode, bytes);
            expect(summary.totalWords).toBe([...single.values()].reduce((a, b) => a + b, 0));
            expect(summary.chunks).toBe(Math.ceil(bytes.length / chunkSize));
            expect(summary.stats.reduceTasks > 0).toBe(reduce === 'partitioned');
          },
        ),
        { numRuns: 30 },
      );
    });
  }

  it('spills a held table too big to travel and reduces it with the rest', async () => {
    const words = Array.from({ length: 120_000 }, (_, i) => `w${i.toString(36)}`);
    const bytes = new TextEncoder().encode(`${words.join(' ')} ${words.slice(0, 500).join(' ')}`);
    const path = await file('big-vocabulary.txt', bytes);
    const { summary, tsv } = await (pools.get(2) as Embedded).count([path], {
      mode: 'whitespace',
      chunkSize: 64 * 1024,
      inlineLimitBytes: 64 * 1024,
    });
    expect(tsv).toBe(expectedTsv('whitespace', bytes));
    expect(summary.stats.reduceTasks).toBeGreaterThan(0);
  });

  it('fails the job, naming the tasks, when a thread dies holding their counts', async () => {
    // The real task worker, behind a message that kills the thread between tasks (heard
    // first, so the task worker never answers it).
    await writeFile(
      join(dir, 'die-first.mjs'),
      `import { parentPort } from 'node:worker_threads';
       parentPort.on('message', (r) => { if (r.functionName === 'die') process.exit(3); });`,
    );
    const script = join(dir, 'mortal-worker.mjs');
    await writeFile(
      script,
      `import './die-first.mjs';\nimport ${JSON.stringify(taskWorkerScript().href)};\n`,
    );
    const pool = await Embedded.create(1, { held: true, script: new URL(`file://${script}`) });
    try {
      const path = await file('mortal.txt', 'one two three four five six seven eight nine ten\n');
      const run = pool.count([path], {
        mode: 'words',
        chunkSize: 8,
        onProgress: (p) => {
          // After the second task, the only thread dies: what it held goes with it.
          if (p.phase === 'map' && p.tasksDone === 2) {
            pool.runner.invoke('die', {}).catch(() => undefined);
          }
        },
      });
      await expect(run).rejects.toThrow(/map task\(s\) 0, 1.* were lost with their worker thread/);
    } finally {
      await pool.close();
    }
  });
});
