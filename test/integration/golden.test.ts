import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Embedded } from '../support/embedded.js';

const golden = new URL('../golden/', import.meta.url);
const samples = new URL('../../samples/', import.meta.url);

const CASES = [
  { name: 'kjv-genesis', dir: samples, chunkSizes: [1 << 20, 4096, 333] },
  { name: 'unicode-mix', dir: golden, chunkSizes: [1 << 20, 1000, 17] },
  { name: 'all-whitespace', dir: golden, chunkSizes: [1 << 20, 3, 1] },
];

let embedded: Embedded;
beforeAll(async () => {
  embedded = await Embedded.create(2);
});
afterAll(() => embedded.close());

describe("whitespace mode against Python's str.split() golden files", () => {
  for (const { name, dir, chunkSizes } of CASES) {
    for (const chunkSize of chunkSizes) {
      // Thousands of one-line partials spilled to files add time, not coverage.
      const reduces =
        chunkSize < 100 && name === 'unicode-mix' ? ['inline'] : ['inline', 'partitioned'];
      for (const reduce of reduces as ('inline' | 'partitioned')[]) {
        it(`${name} with ${chunkSize}-byte chunks, reduced ${reduce}, gives Python's counts byte for byte`, async () => {
          const path = new URL(`${name}.txt`, dir).pathname;
          const expectedTsv = await readFile(new URL(`${name}.whitespace.tsv`, golden), 'utf8');
          const meta = JSON.parse(
            await readFile(new URL(`${name}.whitespace.json`, golden), 'utf8'),
          );
          const { summary, tsv } = await embedded.count([path], {
            mode: 'whitespace',
            chunkSize,
            reduce,
          });
          expect(tsv).toBe(expectedTsv);
          expect(summary.totalWords).toBe(meta.totalWords);
          expect(summary.distinctWords).toBe(meta.distinctWords);
          expect(summary.stats.reduceTasks > 0).toBe(reduce === 'partitioned');
        });
      }
    }
  }
});
