/** The index of spilled map outputs, on real files: what a reduce task reads back is what was added. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lib/adapters/file-store.js';
import { RequestMeter } from '../../lib/cost/request-meter.js';
import { PartsIndex, readIndexChunk } from '../../lib/job/tasks/parts-index.js';

let root: string;
let n = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'wordcount-parts-index-'));
});

/** Non-decreasing offsets of `partitions` partitions, some empty, some past 2^32. */
const offsetsOf = (partitions: number) =>
  fc
    .array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5000 }), fc.constant(2 ** 33)), {
      minLength: partitions,
      maxLength: partitions,
    })
    .map((sizes) => {
      const offsets = [Math.floor(sizes[0] ?? 0) % 7];
      for (const s of sizes) offsets.push((offsets.at(-1) as number) + s);
      return offsets;
    });

describe('the index of spilled map outputs', () => {
  it("gives each reduce task every output's offsets of its partitions, as slicing them would", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 40 })
          .chain((partitions) =>
            fc.tuple(
              fc.constant(partitions),
              fc.array(offsetsOf(partitions), { maxLength: 30 }),
              fc.integer({ min: 1, max: 7 }),
              fc.integer({ min: 0, max: partitions - 1 }),
              fc.integer({ min: 1, max: partitions }),
            ),
          ),
        async ([partitions, outputs, chunkParts, a, b]) => {
          const [from, to] = [Math.min(a, b - 1), Math.max(a + 1, b)];
          const store = new FileObjectStore(root);
          const index = new PartsIndex(store, `job${n++}/`, partitions, chunkParts);
          for (const [i, offsets] of outputs.entries())
            await index.add({ key: `map/${i}.tsv`, offsets });
          await index.flush();
          expect(index.count).toBe(outputs.length);
          expect(index.chunks).toHaveLength(Math.ceil(outputs.length / chunkParts));
          const read = [];
          for (const chunk of index.chunks)
            read.push(...(await readIndexChunk(store, chunk, from, to)));
          const expected = outputs
            .map((offsets, i) => ({ key: `map/${i}.tsv`, offsets: offsets.slice(from, to + 1) }))
            .filter((input) => (input.offsets.at(-1) as number) > (input.offsets[0] as number));
          expect(read).toEqual(expected);
          // The partition sizes the reduce tasks are grouped by.
          for (let p = 0; p < partitions; p++) {
            const size = outputs.reduce(
              (sum, o) => sum + (o[p + 1] as number) - (o[p] as number),
              0,
            );
            expect(index.sizes[p]).toBe(size);
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('holds at most one chunk of outputs, and a reduce task reads two ranges a chunk', async () => {
    const meter = new RequestMeter();
    const store = new FileObjectStore(root, { meter });
    const index = new PartsIndex(store, `job${n++}/`, 1024, 256);
    const offsets = Array.from({ length: 1025 }, (_, p) => p * 10);
    for (let i = 0; i < 1000; i++) {
      await index.add({ key: `map/${i}.tsv`, offsets });
      // The outputs not written yet never pass a chunk.
      expect(index.count - index.chunks.reduce((s, c) => s + c.parts, 0)).toBeLessThan(256);
    }
    await index.flush();
    expect(index.chunks.map((c) => c.parts)).toEqual([256, 256, 256, 232]);
    const before = meter.snapshot()['s3:GetObject'] ?? 0;
    for (const chunk of index.chunks) await readIndexChunk(store, chunk, 500, 502);
    expect((meter.snapshot()['s3:GetObject'] ?? 0) - before).toBe(2 * index.chunks.length);
  });

  it('refuses an output cut into another number of partitions, naming it', async () => {
    const index = new PartsIndex(new FileObjectStore(root), `job${n++}/`, 4);
    await expect(index.add({ key: 'map/odd.tsv', offsets: [0, 1, 2] })).rejects.toThrow(
      /map\/odd\.tsv has 2 partitions, the job 4/,
    );
  });
});
