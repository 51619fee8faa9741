import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lib/adapters/file-store.js';
import { WorkerPoolRunner } from '../../lib/adapters/worker-pool-runner.js';
import { runCountJob } from '../../lib/job.js';
import { countsTsv, sortCounts } from '../../lib/reduce.js';
import { counterWorkerScript } from '../support/workers.js';

const golden = new URL('../golden/', import.meta.url);
const samples = new URL('../../samples/', import.meta.url);

const CASES = [
  { name: 'kjv-genesis', dir: samples, chunkSizes: [1 << 20, 4096, 333] },
  { name: 'unicode-mix', dir: golden, chunkSizes: [1 << 20, 1000, 17] },
  { name: 'all-whitespace', dir: golden, chunkSizes: [1 << 20, 3, 1] },
];

const runner = new WorkerPoolRunner({
  size: 2,
  script: counterWorkerScript(),
  workerData: { storeRoot: '/' },
});
afterAll(() => runner.close());

describe("whitespace mode against Python's str.split() golden files", () => {
  for (const { name, dir, chunkSizes } of CASES) {
    for (const chunkSize of chunkSizes) {
      it(`${name} with ${chunkSize}-byte chunks gives Python's counts byte for byte`, async () => {
        const path = new URL(`${name}.txt`, dir).pathname;
        const expectedTsv = await readFile(new URL(`${name}.whitespace.tsv`, golden), 'utf8');
        const meta = JSON.parse(await readFile(new URL(`${name}.whitespace.json`, golden), 'utf8'));
        const { summary, counts } = await runCountJob(
          { store: new FileObjectStore('/'), runner, counterFunction: 'counter' },
          path.slice(1),
          { mode: 'whitespace', chunkSize, concurrency: 2, top: 3 },
        );
        expect([...countsTsv(sortCounts(counts))].join('')).toBe(expectedTsv);
        expect(summary.totalWords).toBe(meta.totalWords);
        expect(summary.distinctWords).toBe(meta.distinctWords);
      });
    }
  }
});
