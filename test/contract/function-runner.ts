/**
 * The FunctionRunner contract: what both drivers rely on from the runner of the task
 * function, run against every implementation (the worker pool, Lambda on the emulator).
 * A result comes back as the function returned it; a task that fails comes back as an
 * InvocationError naming the function's own error, which says whether a retry helps;
 * invocations in parallel each get their own answer (the article's threads shared one
 * loop variable and answered for the wrong word).
 */
import { describe, expect, it } from 'vitest';
import { type MapRequest, MapResultSchema } from '../../lib/contracts/tasks.js';
import { InvocationError, isDeterministic, taskErrorType } from '../../lib/errors.js';
import type { FunctionRunner, ObjectStore } from '../../lib/ports.js';
import { mergeEntries, singlePassCounts } from '../support/oracle.js';

export interface RunnerFixture {
  runner: FunctionRunner;
  /** The task function's name. */
  counter: string;
  /** Where the function reads its sources and writes its work. */
  store: ObjectStore;
  /** The bucket the requests name (absent on the embedded backend). */
  bucket?: string;
  /** A key prefix unique to this run. */
  prefix: string;
}

const encoder = new TextEncoder();

/** A map task over all of `key`: counts inline (nothing spills under a 1 MiB limit). */
async function mapRequest(f: RunnerFixture, key: string, index = 0): Promise<MapRequest> {
  const { etag, size } = await f.store.head(key);
  return {
    type: 'map',
    ...(f.bucket && { bucket: f.bucket }),
    index,
    mode: 'words',
    slices: [{ key, etag, start: 0, end: size, whole: true }],
    spill: { prefix: `${f.prefix}/spill/${index}/`, inlineLimitBytes: 1 << 20, partitions: 1 },
  };
}

function countsOf(result: unknown): Map<string, number> {
  const parsed = MapResultSchema.parse(result);
  const counts = new Map<string, number>();
  mergeEntries(counts, parsed.entries ?? '');
  return counts;
}

export function functionRunnerContract(name: string, fixture: () => RunnerFixture): void {
  describe(`FunctionRunner contract: ${name}`, () => {
    it("returns the task function's result as it returned it", async () => {
      const f = fixture();
      const text = 'In the beginning God created the heaven and the earth. the THE the\n';
      const key = `${f.prefix}/genesis.txt`;
      await f.store.put(key, text);
      const result = await f.runner.invoke(f.counter, await mapRequest(f, key, 7));
      const expected = singlePassCounts('words', encoder.encode(text));
      const tokens = [...expected.values()].reduce((a, b) => a + b, 0);
      expect(MapResultSchema.parse(result)).toMatchObject({ type: 'map', index: 7, tokens });
      expect(countsOf(result)).toEqual(expected);
    });

    it('answers each of many invocations in parallel with its own result', async () => {
      const f = fixture();
      const texts = Array.from({ length: 12 }, (_, i) => `word${i} `.repeat(i + 1));
      const requests = await Promise.all(
        texts.map(async (text, i) => {
          const key = `${f.prefix}/parallel-${i}.txt`;
          await f.store.put(key, text);
          return mapRequest(f, key, i);
        }),
      );
      const results = await Promise.all(requests.map((r) => f.runner.invoke(f.counter, r)));
      results.forEach((result, i) => {
        expect(MapResultSchema.parse(result).index).toBe(i);
        expect(countsOf(result)).toEqual(new Map([[`word${i}`, i + 1]]));
      });
    });

    it("fails with the function's own error, naming the object, when a source is missing", async () => {
      const f = fixture();
      const key = `${f.prefix}/here-then-gone.txt`;
      await f.store.put(key, 'soon gone');
      const request = await mapRequest(f, key);
      await f.store.delete(key);
      const error: unknown = await f.runner.invoke(f.counter, request).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvocationError);
      expect(taskErrorType(error)).toBe('ObjectNotFoundError');
      expect((error as Error).message).toContain('here-then-gone.txt');
      // A retry would fail the same way: the drivers fail the job at once.
      expect(isDeterministic(error)).toBe(true);
    });

    it('fails with InvalidPayloadError for a request the task function cannot take', async () => {
      const f = fixture();
      const error: unknown = await f.runner
        .invoke(f.counter, { type: 'map', index: -1, slices: [] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvocationError);
      expect(taskErrorType(error)).toBe('InvalidPayloadError');
      expect(isDeterministic(error)).toBe(true);
    });
  });
}
