/** A `"dryRun": true` request: admitted as a job is, answered with its plan, nothing written. */
import { mkdir, mkdtemp, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lib/adapters/file-store.js';
import type { OrchestratorConfig } from '../../lib/config.js';
import { parsePayload } from '../../lib/contracts/parse.js';
import { PlanSummarySchema } from '../../lib/contracts/plan.js';
import { JobRequestSchema, startRequestOf } from '../../lib/contracts/requests.js';
import { DEFAULT_PRICES } from '../../lib/cost/prices.js';
import { RequestMeter } from '../../lib/cost/request-meter.js';
import { UsageError } from '../../lib/errors.js';
import { orchestrator } from '../../lib/job/orchestrator.js';
import { admit } from '../../lib/job/request/admit.js';
import { KiB, MiB } from '../../lib/sizes.js';

let root: string;
let store: FileObjectStore;
let meter: RequestMeter;

const config = (coordination: 'queue' | 'rpc'): OrchestratorConfig => ({
  ...(coordination === 'queue'
    ? { coordination, queueUrl: 'https://sqs.invalid/tasks' }
    : { coordination, counterFunction: 'counter' }),
  bucket: 'data',
  concurrency: 64,
  chunkSize: 16 * MiB,
  taskTimeoutMs: 330_000,
  heartbeatMs: 30_000,
  prices: DEFAULT_PRICES,
  memoryMb: 3008,
  stallMs: 990_000,
});

/** The orchestrator over the store, with no queue and no counter: a plan needs neither. */
const use = (coordination: 'queue' | 'rpc' = 'queue') =>
  orchestrator({
    config: config(coordination),
    storeOf: () => store,
    meter,
    log: () => undefined,
  });

/** A sparse object: its size is all a plan may know of it. */
async function sparse(key: string, size: number): Promise<void> {
  const path = join(root, key);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, '');
  await truncate(path, size);
}

async function listed(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.list(prefix)) keys.push(info.key);
  return keys;
}

/** A direct request as the function parses it. */
const ask = (event: unknown, coordination: 'queue' | 'rpc' = 'queue') => {
  const { bucket, ...request } = startRequestOf(parsePayload(JobRequestSchema, event, 'request'));
  return use(coordination).answer(bucket, request, {});
};

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'wordcount-dry-run-'));
  meter = new RequestMeter();
  store = new FileObjectStore(root, { meter });
});

describe('a dryRun request', () => {
  it('answers the plan, with the chunk size admission grows, and writes nothing', async () => {
    await sparse('books/big.txt', 400 * 1000 * MiB);
    const plan = PlanSummarySchema.parse(
      await ask({ bucket: 'data', key: 'books/big.txt', dryRun: true }),
    );
    // 400,000 MiB is 25,000 chunks of 16 MiB: doubled to 32 MiB, 12,500 ranges.
    expect(plan.chunkSize).toBe(32 * MiB);
    expect(plan.tasks.map).toBe(12_500);
    expect(plan.source).toMatchObject({ objects: 1, bytes: 400 * 1000 * MiB });
    expect(plan.width).toMatchObject({ counters: 64 });
    expect(Object.keys(plan.estimate.coordinations)).toEqual(['queue']);
    expect(await listed('jobs/')).toEqual([]);
    expect(await listed('output/')).toEqual([]);
    // Sizes only: a HEAD, no GET of the object.
    expect(meter.snapshot()['s3:GetObject'] ?? 0).toBe(0);
  });

  it('plans a prefix of crawl files whole, under the deployment coordination', async () => {
    for (let i = 0; i < 20; i++) await sparse(`crawl/${i}.warc.wet.gz`, 20 * MiB);
    const plan = PlanSummarySchema.parse(
      await ask({ bucket: 'data', prefix: 'crawl/', dryRun: true }, 'rpc'),
    );
    expect(plan.splits.whole).toEqual({ objects: 20, bytes: 20 * 20 * MiB, tasks: 20 });
    expect(plan.estimate.coordinations.rpc?.cost.functions.orchestrator?.invocations).toBe(1);
    expect(plan.estimate.coordinations.queue).toBeUndefined();
    expect(await listed('jobs/')).toEqual([]);
  });

  it('takes the chunk size a request asks, with the same limits as a job', async () => {
    await sparse('big.txt', 100_001 * 64 * KiB);
    const asked = PlanSummarySchema.parse(
      await ask({ bucket: 'data', key: 'big.txt', chunkSize: '1GiB', dryRun: true }),
    );
    expect(asked.chunkSizeReason).toBe('asked for: 1GiB');
    // A start's admission, as both drivers call it.
    const refusals = await Promise.allSettled([
      ask({ bucket: 'data', key: 'big.txt', chunkSize: '64KiB', dryRun: true }),
      admit(
        { store, bucket: 'data', defaultChunkSize: 16 * MiB },
        { input: { kind: 'key', key: 'big.txt' }, chunkSize: '64KiB' },
      ),
    ]);
    const [dry, real] = refusals.map((r) => (r as PromiseRejectedResult).reason);
    expect(dry).toBeInstanceOf(UsageError);
    expect(String(dry)).toMatch(/100001 tasks of 64KiB is over the limit of 100000 per job/);
    expect(String(dry)).toBe(String(real));
    await expect(
      ask({ bucket: 'data', key: 'big.txt', chunkSize: '1KiB', dryRun: true }),
    ).rejects.toThrow(/below the minimum of 64KiB/);
    expect(await listed('jobs/')).toEqual([]);
  });

  it('refuses what a start refuses: another bucket, a missing key', async () => {
    await expect(ask({ bucket: 'other', key: 'a.txt', dryRun: true })).rejects.toThrow(
      /bucket 'other' is not served here/,
    );
    await expect(ask({ bucket: 'data', key: 'missing.txt', dryRun: true })).rejects.toThrow(
      /missing\.txt/,
    );
    await expect(ask({ bucket: 'data', prefix: 'none/', dryRun: true })).rejects.toThrow(
      /no objects under this prefix/,
    );
    expect(await listed('')).toEqual([]);
  });
});
