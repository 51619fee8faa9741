/** The orchestrator's job lifecycle on real files and real worker threads. */
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lib/adapters/file-store.js';
import { WorkerPoolRunner } from '../../lib/adapters/worker-pool-runner.js';
import { JobStatusSchema } from '../../lib/contracts.js';
import { countBytes } from '../../lib/count.js';
import { JobFailedError, ObjectNotFoundError } from '../../lib/errors.js';
import { claimKey, countsKey, jobIdFor, statusKey, summaryKey } from '../../lib/keys.js';
import { type OrchestratorDeps, runJobOnce } from '../../lib/orchestrate.js';
import { countsTsv, mergeEntries, sortCounts } from '../../lib/reduce.js';
import { counterWorkerScript } from '../support/workers.js';

let root: string;
let store: FileObjectStore;
let runner: WorkerPoolRunner;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'wordcount-orchestrate-'));
  store = new FileObjectStore(root);
  runner = new WorkerPoolRunner({
    size: 2,
    script: counterWorkerScript(),
    workerData: { storeRoot: root },
  });
});
afterAll(() => runner.close());

function deps(overrides: Partial<OrchestratorDeps> = {}): OrchestratorDeps {
  return {
    store,
    bucket: 'local',
    runner,
    counterFunction: 'counter',
    concurrency: 2,
    defaultChunkSize: 4096,
    ...overrides,
  };
}

async function text(key: string): Promise<string> {
  return new TextDecoder().decode(await store.get(key));
}

function expectedTsv(bytes: Uint8Array): string {
  const counts = new Map<string, number>();
  mergeEntries(counts, countBytes('words', bytes).entries);
  return [...countsTsv(sortCounts(counts))].join('');
}

describe('runJobOnce', () => {
  it('publishes counts then summary, and records the job as succeeded with its manifest', async () => {
    const body = new TextEncoder().encode(
      'the quick brown fox jumps over the lazy dog\n'.repeat(500),
    );
    await store.put('input/fox one.txt', body);
    const result = await runJobOnce(deps(), { key: 'input/fox one.txt' });
    expect(result.outcome).toBe('published');
    expect(await text(countsKey('input/fox one.txt'))).toBe(expectedTsv(body));
    const summary = JSON.parse(await text(summaryKey('input/fox one.txt')));
    expect(summary).toMatchObject({
      totalWords: 4500,
      distinctWords: 8,
      chunks: Math.ceil(body.length / 4096),
    });
    const status = JobStatusSchema.parse(JSON.parse(await text(statusKey(result.jobId))));
    expect(status.state).toBe('succeeded');
    expect(status.ranges).toHaveLength(summary.chunks);
    expect(status.ranges.every((r) => r.counted)).toBe(true);
  });

  it('answers a repeated trigger from the finished job without counting again', async () => {
    await store.put('input/again.txt', 'one two two');
    const first = await runJobOnce(deps(), { key: 'input/again.txt' });
    const counting = deps({ counterFunction: 'nosuch' }); // a recount would fail
    const second = await runJobOnce(counting, { key: 'input/again.txt' });
    expect(second).toEqual({
      outcome: 'already-published',
      jobId: first.jobId,
      summary: (first as { summary: unknown }).summary,
    });
  });

  it('lets one of two concurrent duplicates count; the other stops at the claim', async () => {
    await store.put('input/race.txt', 'alpha beta '.repeat(20_000));
    const outcomes = await Promise.all([
      runJobOnce(deps(), { key: 'input/race.txt' }),
      runJobOnce(deps(), { key: 'input/race.txt' }),
    ]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['claimed-elsewhere', 'published']);
    expect(outcomes[0]?.jobId).toBe(outcomes[1]?.jobId);
  });

  it('takes over the claim of an invocation that died, but not a live one', async () => {
    const key = 'input/orphan.txt';
    await store.put(key, 'left behind by a crashed orchestrator');
    const clock = { t: new Date('2026-01-01T00:00:00Z') };
    const timed = deps({ now: () => clock.t, claimTtlMs: 60_000 });
    // What an invocation that timed out leaves: its claim, and no outcome.
    const { etag } = await store.head(key);
    const jobId = jobIdFor({ bucket: 'local', key, etag, mode: 'words', chunkSize: 4096 });
    await store.put(claimKey(jobId), JSON.stringify({ jobId, claimedAt: clock.t.toISOString() }));
    clock.t = new Date(clock.t.getTime() + 30_000);
    expect(await runJobOnce(timed, { key })).toEqual({ outcome: 'claimed-elsewhere', jobId });
    clock.t = new Date(clock.t.getTime() + 60_000);
    expect(await runJobOnce(timed, { key })).toMatchObject({ outcome: 'published', jobId });
  });

  it('never answers with the output of a job with other options', async () => {
    const key = 'input/modes.txt';
    await store.put(key, 'Word word WORD');
    const asked = ['whitespace', 'words', 'whitespace'] as const;
    const answers = [];
    for (const mode of asked) answers.push(await runJobOnce(deps(), { key, mode }));
    expect(answers.map((a) => a.outcome)).toEqual(['published', 'published', 'published']);
    expect(answers.map((a) => (a as { summary: { mode: string } }).summary.mode)).toEqual([
      ...asked,
    ]);
    expect(JSON.parse(await text(summaryKey(key)))).toMatchObject({
      mode: 'whitespace',
      distinctWords: 3,
    });
    expect(await text(countsKey(key))).toBe('WORD\t1\nWord\t1\nword\t1\n');
    expect((await runJobOnce(deps(), { key, mode: 'whitespace' })).outcome).toBe(
      'already-published',
    );
  });

  it('counts a new version of the same key as a new job', async () => {
    await store.put('input/versioned.txt', 'v1');
    const first = await runJobOnce(deps(), { key: 'input/versioned.txt' });
    await new Promise((r) => setTimeout(r, 5));
    await store.put('input/versioned.txt', 'v2 v2');
    const second = await runJobOnce(deps(), { key: 'input/versioned.txt' });
    expect(second.jobId).not.toBe(first.jobId);
    expect(second.outcome).toBe('published');
    expect(JSON.parse(await text(summaryKey('input/versioned.txt'))).totalWords).toBe(2);
  });

  it('records a failed job, publishes nothing, and names the key', async () => {
    await store.put('input/doomed.txt', 'words '.repeat(5000));
    const failure = runJobOnce(deps({ counterFunction: 'nosuch' }), { key: 'input/doomed.txt' });
    await expect(failure).rejects.toThrow(JobFailedError);
    await expect(failure).rejects.toThrow(/input\/doomed\.txt failed: .*chunk/);
    await expect(store.head(summaryKey('input/doomed.txt'))).rejects.toThrow(ObjectNotFoundError);
    await expect(store.head(countsKey('input/doomed.txt'))).rejects.toThrow(ObjectNotFoundError);
    const jobs = await readdir(join(root, 'jobs'));
    const statuses = await Promise.all(
      jobs.map((id) => readFile(join(root, 'jobs', id, 'status.json'), 'utf8').catch(() => '{}')),
    );
    const failed = statuses
      .map((s) => JSON.parse(s))
      .filter((s) => s.source?.key === 'input/doomed.txt');
    expect(failed).toHaveLength(1);
    expect(failed[0].state).toBe('failed');
    expect(failed[0].reason).toMatch(/no function named 'nosuch'/);
  });

  it('spills a partial over the payload budget and reduces it from the store', async () => {
    const words = Array.from({ length: 20_000 }, (_, i) => `w${i.toString(36)}`).join(' ');
    const body = new TextEncoder().encode(words);
    await store.put('input/wide.txt', body);
    const result = await runJobOnce(deps({ defaultChunkSize: 1 << 20, inlineLimitBytes: 50_000 }), {
      key: 'input/wide.txt',
    });
    expect(result.outcome).toBe('published');
    expect(await text(countsKey('input/wide.txt'))).toBe(expectedTsv(body));
    const partials = await readdir(join(root, 'jobs', result.jobId, 'partials', '0'));
    expect(partials.length).toBeGreaterThan(1);
  });

  it('answers with the number of top words asked for, fresh or already published', async () => {
    const words = Array.from({ length: 40 }, (_, i) => `w${i} `.repeat(i + 1)).join('');
    await store.put('input/tops.txt', words);
    const fresh = await runJobOnce(deps(), { key: 'input/tops.txt', top: 3 });
    expect(fresh.outcome === 'published' && fresh.summary.top.map((t) => t.word)).toEqual([
      'w39',
      'w38',
      'w37',
    ]);
    const published = JSON.parse(await text(summaryKey('input/tops.txt')));
    expect(published.top).toHaveLength(20);
    const fewer = await runJobOnce(deps(), { key: 'input/tops.txt', top: 2 });
    expect(fewer.outcome === 'already-published' && fewer.summary.top).toEqual([
      { word: 'w39', count: 40 },
      { word: 'w38', count: 39 },
    ]);
    const more = await runJobOnce(deps(), { key: 'input/tops.txt', top: 30 });
    expect(more.outcome === 'already-published' && more.summary.top.map((t) => t.count)).toEqual(
      Array.from({ length: 30 }, (_, i) => 40 - i),
    );
  });

  it('reports a missing key as ObjectNotFoundError', async () => {
    await expect(runJobOnce(deps(), { key: 'input/absent.txt' })).rejects.toThrow(
      ObjectNotFoundError,
    );
  });

  it('accepts mode and chunk size options and rejects a bad size', async () => {
    await writeFile(join(root, 'input', 'opts.txt'), 'A a');
    const result = await runJobOnce(deps(), {
      key: 'input/opts.txt',
      mode: 'whitespace',
      chunkSize: '1KiB',
    });
    expect(result.outcome === 'published' && result.summary).toMatchObject({
      mode: 'whitespace',
      distinctWords: 2,
    });
    await expect(runJobOnce(deps(), { key: 'input/opts.txt', chunkSize: 'huge' })).rejects.toThrow(
      /invalid size 'huge'/,
    );
  });
});
