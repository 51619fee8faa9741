import { mkdtemp, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lib/adapters/file-store.js';
import { WorkerPoolRunner } from '../../lib/adapters/worker-pool-runner.js';
import { CountResultSchema } from '../../lib/contracts.js';
import { countBytes } from '../../lib/count.js';
import { InvocationError, JobFailedError, ObjectNotFoundError } from '../../lib/errors.js';
import { runCountJob } from '../../lib/job.js';
import { mergeEntries } from '../../lib/reduce.js';
import type { Mode } from '../../lib/tokenize.js';
import { sortedEntries } from '../support/oracle.js';
import { hostileBytes } from '../support/text.js';
import { counterWorkerScript } from '../support/workers.js';

let root: string;
let store: FileObjectStore;
const pools = new Map<number, WorkerPoolRunner>();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'wordcount-job-'));
  store = new FileObjectStore(root);
  for (const size of [1, 2, 3])
    pools.set(
      size,
      new WorkerPoolRunner({
        size,
        script: counterWorkerScript(),
        workerData: { storeRoot: root },
      }),
    );
});

afterAll(async () => {
  for (const pool of pools.values()) await pool.close();
});

function pool(size: number): WorkerPoolRunner {
  return pools.get(size) as WorkerPoolRunner;
}

function singlePass(mode: Mode, bytes: Uint8Array) {
  const result = countBytes(mode, bytes);
  const counts = new Map<string, number>();
  mergeEntries(counts, result.entries ?? '');
  return { counts, tokens: result.tokens, invalid: result.invalidSequences };
}

describe('worker pool runner', () => {
  it('runs the counter in a worker thread with a JSON payload and returns a valid result', async () => {
    await writeFile(join(root, 'small.txt'), 'to be or not to be');
    const reply = await pool(1).invoke('counter', {
      key: 'small.txt',
      mode: 'whitespace',
      range: { index: 0, start: 0, end: 18 },
    });
    const result = CountResultSchema.parse(reply);
    const counts = new Map<string, number>();
    mergeEntries(counts, result.entries ?? '');
    expect(sortedEntries(counts)).toEqual([
      ['be', 2],
      ['not', 1],
      ['or', 1],
      ['to', 2],
    ]);
  });

  it('turns an invalid payload into an InvocationError naming the field', async () => {
    await expect(pool(1).invoke('counter', { key: 'small.txt', mode: 'nouns' })).rejects.toThrow(
      InvocationError,
    );
    await expect(pool(1).invoke('counter', { key: 'small.txt', mode: 'nouns' })).rejects.toThrow(
      /invalid count request at mode/,
    );
  });

  it('turns an unknown function into an InvocationError', async () => {
    await expect(pool(2).invoke('nosuch', {})).rejects.toThrow(/no function named 'nosuch'/);
  });
});

describe('count job on the embedded backend', () => {
  for (const mode of ['words', 'whitespace'] as const) {
    it(`equals the single pass for any chunk size and 1-3 workers (${mode})`, async () => {
      let file = 0;
      await fc.assert(
        fc.asyncProperty(
          hostileBytes,
          fc.integer({ min: 1, max: 200 }),
          fc.integer({ min: 1, max: 3 }),
          async (bytes, chunkSize, workers) => {
            const key = `${mode}-${file++}.txt`;
            await writeFile(join(root, key), bytes);
            const { summary, counts } = await runCountJob(
              { store, runner: pool(workers), counterFunction: 'counter' },
              key,
              { mode, chunkSize, concurrency: workers, top: 5 },
            );
            const expected = singlePass(mode, bytes);
            expect(sortedEntries(counts)).toEqual(sortedEntries(expected.counts));
            expect(summary.totalWords).toBe(expected.tokens);
            expect(summary.distinctWords).toBe(expected.counts.size);
            expect(summary.invalidSequences).toBe(expected.invalid);
            expect(summary.chunks).toBe(Math.ceil(bytes.length / chunkSize));
          },
        ),
        { numRuns: 40 },
      );
    });
  }

  it('reports progress for every chunk', async () => {
    await writeFile(join(root, 'progress.txt'), 'word '.repeat(1000));
    const seen: number[] = [];
    await runCountJob(
      {
        store,
        runner: pool(2),
        counterFunction: 'counter',
        onProgress: (p) => seen.push(p.chunksDone),
      },
      'progress.txt',
      { mode: 'words', chunkSize: 1000, concurrency: 2, top: 1 },
    );
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('fails naming the key and chunk when a counter fails, and returns nothing', async () => {
    await writeFile(join(root, 'doomed.txt'), 'some words here '.repeat(100));
    const job = runCountJob({ store, runner: pool(2), counterFunction: 'nosuch' }, 'doomed.txt', {
      mode: 'words',
      chunkSize: 100,
      concurrency: 2,
      top: 1,
    });
    await expect(job).rejects.toThrow(JobFailedError);
    await expect(job).rejects.toThrow(/doomed\.txt failed at chunk \d+ \(bytes \d+-\d+\)/);
  });

  it('fails a counter whose file changed since the job read its etag', async () => {
    await writeFile(join(root, 'shrinking.txt'), 'abc '.repeat(1000));
    const info = await store.head('shrinking.txt');
    await truncate(join(root, 'shrinking.txt'), 10);
    const request = {
      key: 'shrinking.txt',
      etag: info.etag,
      mode: 'words',
      range: { index: 1, start: 2000, end: 3000 },
    };
    await expect(pool(1).invoke('counter', request)).rejects.toThrow(
      /PreconditionFailedError: .*shrinking\.txt changed since the job started/,
    );
  });

  it('reports a missing file as ObjectNotFoundError', async () => {
    await expect(
      runCountJob({ store, runner: pool(1), counterFunction: 'counter' }, 'absent.txt', {
        mode: 'words',
        concurrency: 1,
        top: 1,
      }),
    ).rejects.toThrow(ObjectNotFoundError);
  });
});

describe('worker pool failures', () => {
  it('fails every call, without respawning forever, when the worker cannot load', async () => {
    const broken = new WorkerPoolRunner({
      size: 2,
      script: new URL('file:///nonexistent/worker.js'),
      workerData: {},
    });
    try {
      await expect(broken.invoke('counter', {})).rejects.toThrow(
        /worker thread failed to start: .*nonexistent/,
      );
      await expect(broken.invoke('counter', {})).rejects.toThrow(/worker thread failed to start/);
    } finally {
      await broken.close();
    }
  });

  it('replaces a worker that dies in the middle of a task and fails only that task', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wordcount-crash-'));
    const script = join(dir, 'crashy.mjs');
    await writeFile(
      script,
      `import { parentPort } from 'node:worker_threads';
       parentPort.on('message', (r) => {
         if (r.functionName === 'crash') process.exit(7);
         parentPort.postMessage({ id: r.id, ok: true, result: JSON.stringify('pong') });
       });`,
    );
    const pool = new WorkerPoolRunner({ size: 1, script: new URL(`file://${script}`) });
    try {
      expect(await pool.invoke('ping', {})).toBe('pong');
      await expect(pool.invoke('crash', {})).rejects.toThrow(
        /crash: worker thread exited with code 7/,
      );
      expect(await pool.invoke('ping', {})).toBe('pong');
    } finally {
      await pool.close();
    }
  });
});
