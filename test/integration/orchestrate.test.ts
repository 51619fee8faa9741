/** The orchestrator's job lifecycle on real files and real worker threads. */
import { readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FileObjectStore } from '../../lib/adapters/file-store.js';
import { parsePayload } from '../../lib/contracts/parse.js';
import { JobRequestSchema } from '../../lib/contracts/requests.js';
import { JobStatusSchema } from '../../lib/contracts/status.js';
import { SummarySchema } from '../../lib/contracts/summary.js';
import {
  CorruptInputError,
  JobBusyError,
  JobFailedError,
  ObjectNotFoundError,
  PreconditionFailedError,
  UsageError,
} from '../../lib/errors.js';
import { viewJob } from '../../lib/job/ledger/job-view.js';
import { latestJobId } from '../../lib/job/ledger/status.js';
import { runJobOnce } from '../../lib/job/rpc/rpc-job.js';
import { startUpload } from '../../lib/job/uploads.js';
import {
  activeJobKey,
  claimKey,
  inputEtag,
  jobIdFor,
  outputKeys,
  statusKey,
} from '../../lib/keys.js';
import type { FunctionRunner } from '../../lib/ports.js';
import { countsTsvOf, singlePassCounts } from '../support/oracle.js';
import {
  countsKey,
  deps,
  expectedTsv,
  keyInput,
  listed,
  root,
  run,
  runner,
  store,
  summaryKey,
  text,
  useRpcWorld,
} from '../support/rpc-world.js';

useRpcWorld();

describe('runJobOnce', () => {
  it('publishes counts then summary, records the job as succeeded, and removes its partials', async () => {
    const body = new TextEncoder().encode(
      'the quick brown fox jumps over the lazy dog\n'.repeat(500),
    );
    await store.put('input/fox one.txt', body);
    const result = await run(deps({ inlineLimitBytes: 0 }), 'input/fox one.txt');
    expect(result.outcome).toBe('published');
    expect(await text(countsKey('input/fox one.txt'))).toBe(expectedTsv(body));
    const summary = SummarySchema.parse(JSON.parse(await text(summaryKey('input/fox one.txt'))));
    expect(summary).toMatchObject({
      totalWords: 4500,
      distinctWords: 8,
      chunks: Math.ceil(body.length / 4096),
      sources: { objects: 1, bytes: body.length },
    });
    expect(summary.stats.reduceTasks).toBeGreaterThan(0);
    const status = JobStatusSchema.parse(JSON.parse(await text(statusKey(result.jobId))));
    expect(status.state).toBe('succeeded');
    expect(status.tasks).toMatchObject({ map: summary.chunks, mapDone: summary.chunks });
    expect(status.output).toEqual(outputKeys(keyInput('input/fox one.txt')));
    // The summary names the job, and so does the counts object.
    expect(summary.jobId).toBe(result.jobId);
    expect((await store.head(countsKey('input/fox one.txt'))).metadata).toEqual({
      'job-id': result.jobId,
    });
    // Of the job's objects only its status stays: partials, shards, plan, staged counts
    // and claim are gone.
    expect(await listed(`jobs/${result.jobId}/`)).toEqual([`jobs/${result.jobId}/status.json`]);
  });

  it('answers a repeated trigger from the finished job without counting again', async () => {
    await store.put('input/again.txt', 'one two two');
    const first = await run(deps(), 'input/again.txt');
    const counting = deps({ taskFunction: 'nosuch' }); // a recount would fail
    const second = await run(counting, 'input/again.txt');
    expect(second).toEqual({
      outcome: 'already-published',
      jobId: first.jobId,
      summary: (first as { summary: unknown }).summary,
    });
  });

  it('lets one of two concurrent duplicates count; the other fails, retryably, at the claim', async () => {
    await store.put('input/race.txt', 'alpha beta '.repeat(20_000));
    const outcomes = await Promise.allSettled([
      run(deps(), 'input/race.txt'),
      run(deps(), 'input/race.txt'),
    ]);
    const published = outcomes.filter((o) => o.status === 'fulfilled');
    const busy = outcomes.filter((o) => o.status === 'rejected');
    expect(published).toHaveLength(1);
    expect(busy).toHaveLength(1);
    expect((busy[0] as PromiseRejectedResult).reason).toBeInstanceOf(JobBusyError);
    expect(String((busy[0] as PromiseRejectedResult).reason)).toMatch(
      /is being counted by another invocation .*retry later/,
    );
  });

  it('takes over the claim of an invocation that died (heartbeat silent for two periods), but not a live one', async () => {
    const key = 'input/orphan.txt';
    await store.put(key, 'left behind by a crashed orchestrator');
    const clock = { t: new Date('2026-01-01T00:00:00Z') };
    const timed = deps({ now: () => clock.t, heartbeatMs: 30_000 });
    // What an invocation that was killed leaves: its claim, and no outcome.
    const { etag } = await store.head(key);
    const jobId = jobIdFor({
      bucket: 'local',
      input: keyInput(key),
      objects: [{ key, etag }],
      mode: 'words',
      chunkSize: 4096,
    });
    await store.put(
      claimKey(jobId),
      JSON.stringify({ owner: 'killed', heartbeatAt: clock.t.toISOString() }),
    );
    clock.t = new Date(clock.t.getTime() + 45_000);
    await expect(run(timed, key)).rejects.toThrow(JobBusyError);
    clock.t = new Date(clock.t.getTime() + 30_000);
    expect(await run(timed, key)).toMatchObject({ outcome: 'published', jobId });
  });

  it('never answers with the output of a job with other options', async () => {
    const key = 'input/modes.txt';
    await store.put(key, 'Word word WORD');
    const asked = ['whitespace', 'words', 'whitespace'] as const;
    const answers = [];
    for (const mode of asked) answers.push(await run(deps(), key, { mode }));
    expect(answers.map((a) => a.outcome)).toEqual(['published', 'published', 'published']);
    expect(answers.map((a) => (a as { summary: { mode: string } }).summary.mode)).toEqual([
      ...asked,
    ]);
    expect(JSON.parse(await text(summaryKey(key)))).toMatchObject({
      mode: 'whitespace',
      distinctWords: 3,
    });
    expect(await text(countsKey(key))).toBe('WORD\t1\nWord\t1\nword\t1\n');
    expect((await run(deps(), key, { mode: 'whitespace' })).outcome).toBe('already-published');
  });

  it('counts a new version of the same key as a new job', async () => {
    await store.put('input/versioned.txt', 'v1');
    const first = await run(deps(), 'input/versioned.txt');
    await new Promise((r) => setTimeout(r, 5));
    await store.put('input/versioned.txt', 'v2 v2');
    const second = await run(deps(), 'input/versioned.txt');
    expect(second.jobId).not.toBe(first.jobId);
    expect(second.outcome).toBe('published');
    expect(JSON.parse(await text(summaryKey('input/versioned.txt'))).totalWords).toBe(2);
  });

  it('records a failed job, publishes nothing, and names the key', async () => {
    await store.put('input/doomed.txt', 'words '.repeat(5000));
    const failure = run(deps({ taskFunction: 'nosuch' }), 'input/doomed.txt');
    await expect(failure).rejects.toThrow(JobFailedError);
    await expect(failure).rejects.toThrow(
      /input\/doomed\.txt failed: counting .*doomed\.txt \(bytes/,
    );
    await expect(store.head(summaryKey('input/doomed.txt'))).rejects.toThrow(ObjectNotFoundError);
    await expect(store.head(countsKey('input/doomed.txt'))).rejects.toThrow(ObjectNotFoundError);
    const jobs = await readdir(join(root, 'jobs'));
    const statuses = await Promise.all(
      jobs.map((id) => readFile(join(root, 'jobs', id, 'status.json'), 'utf8').catch(() => '{}')),
    );
    const failed = statuses
      .map((s) => JSON.parse(s))
      .filter((s) => s.input?.uri === join(root, 'input/doomed.txt'));
    expect(failed).toHaveLength(1);
    expect(failed[0].state).toBe('failed');
    expect(failed[0].reason).toMatch(/no function named 'nosuch'/);
  });

  it('spills partials over the payload budget and reduces them in reduce tasks', async () => {
    const words = Array.from({ length: 20_000 }, (_, i) => `w${i.toString(36)}`).join(' ');
    const body = new TextEncoder().encode(words);
    await store.put('input/wide.txt', body);
    const result = await run(
      deps({ defaultChunkSize: 1 << 20, inlineLimitBytes: 50_000 }),
      'input/wide.txt',
    );
    expect(result.outcome === 'published' && result.summary.stats.reduceTasks).toBeGreaterThan(0);
    expect(await text(countsKey('input/wide.txt'))).toBe(expectedTsv(body));
  });

  it('answers with the number of top words asked for, fresh or already published', async () => {
    const words = Array.from({ length: 40 }, (_, i) => `w${i} `.repeat(i + 1)).join('');
    await store.put('input/tops.txt', words);
    const fresh = await run(deps(), 'input/tops.txt', { top: 3 });
    expect(fresh.outcome === 'published' && fresh.summary.top.map((t) => t.word)).toEqual([
      'w39',
      'w38',
      'w37',
    ]);
    const published = JSON.parse(await text(summaryKey('input/tops.txt')));
    expect(published.top).toHaveLength(20);
    const fewer = await run(deps(), 'input/tops.txt', { top: 2 });
    expect(fewer.outcome === 'already-published' && fewer.summary.top).toEqual([
      { word: 'w39', count: 40 },
      { word: 'w38', count: 39 },
    ]);
    const more = await run(deps(), 'input/tops.txt', { top: 30 });
    expect(more.outcome === 'already-published' && more.summary.top.map((t) => t.count)).toEqual(
      Array.from({ length: 30 }, (_, i) => 40 - i),
    );
  });

  it('reports a missing key as ObjectNotFoundError', async () => {
    await expect(run(deps(), 'input/absent.txt')).rejects.toThrow(ObjectNotFoundError);
  });

  it('accepts mode and chunk size options and rejects a bad size', async () => {
    await writeFile(join(root, 'input', 'opts.txt'), 'A a');
    const result = await run(deps(), 'input/opts.txt', { mode: 'whitespace', chunkSize: '64KiB' });
    expect(result.outcome === 'published' && result.summary).toMatchObject({
      mode: 'whitespace',
      distinctWords: 2,
    });
    await expect(run(deps(), 'input/opts.txt', { chunkSize: 'huge' })).rejects.toThrow(
      /invalid size 'huge'/,
    );
    await expect(run(deps(), 'input/opts.txt', { chunkSize: '1KiB' })).rejects.toThrow(
      /chunkSize 1KiB is below the minimum of 64KiB/,
    );
  });
});

describe('jobs over many objects', () => {
  const corpus = {
    'corpus/a.txt': 'one two three',
    'corpus/sub/b.txt': 'two three',
    'corpus/sub/deeper/c.txt': 'three',
    'corpus/empty.txt': '',
  };
  const combined = () => {
    const sum = new Map<string, number>();
    for (const body of Object.values(corpus))
      for (const [w, c] of singlePassCounts('words', new TextEncoder().encode(body)))
        sum.set(w, (sum.get(w) ?? 0) + c);
    return countsTsvOf(sum);
  };

  beforeAll(async () => {
    for (const [key, body] of Object.entries(corpus)) await store.put(key, body);
    await store.put('corpus/packed.gz', gzipSync('zipped words'));
  });

  it('counts every object under a prefix as one job, published under results/prefix/', async () => {
    const result = await runJobOnce(deps(), { input: { kind: 'prefix', prefix: 'corpus/sub/' } });
    expect(result.outcome).toBe('published');
    const out = outputKeys({ kind: 'prefix', prefix: 'corpus/sub/' });
    expect(out.summary).toBe('results/prefix/corpus/sub/index.json');
    expect(await text(out.counts)).toBe('three\t2\ntwo\t1\n');
    const summary = SummarySchema.parse(JSON.parse(await text(out.summary)));
    expect(summary.sources).toEqual({ objects: 2, bytes: 14 });
    expect(summary.source.uri).toBe(join(root, 'corpus/sub/'));
  });

  it('counts a list of keys, gzip included, under results/keys/', async () => {
    const keys = [...Object.keys(corpus), 'corpus/packed.gz'];
    const result = await runJobOnce(deps(), { input: { kind: 'keys', keys } });
    expect(result.outcome === 'published' && result.summary.sources.objects).toBe(5);
    const counts = await text(outputKeys({ kind: 'keys', keys }).counts);
    expect(counts).toBe(
      countsTsvOf(
        new Map([
          ...singlePassCounts(
            'words',
            new TextEncoder().encode('one two three two three three zipped words'),
          ),
        ]),
      ),
    );
    expect(counts.split('\n').slice(0, 1)).toEqual(combined().split('\n').slice(0, 1));
  });

  it('runs the job a manifest upload describes, and names its output after the manifest', async () => {
    await store.put('input/books.manifest.json', JSON.stringify({ prefix: 'corpus/' }));
    const result = await run(deps(), 'input/books.manifest.json');
    expect(result.outcome).toBe('published');
    const out = outputKeys(keyInput('input/books.manifest.json'));
    expect(out.counts).toBe('output/books.manifest.json.counts.tsv');
    const summary = SummarySchema.parse(JSON.parse(await text(out.summary)));
    expect(summary.sources.objects).toBe(5);
    const status = JobStatusSchema.parse(JSON.parse(await text(statusKey(result.jobId))));
    expect(status.input.etag).toBe(
      inputEtag(
        await Promise.all(
          [...Object.keys(corpus), 'corpus/packed.gz'].sort().map((k) => store.head(k)),
        ),
      ),
    );
  });

  it('fails a manifest that is not one, naming it, and publishes nothing', async () => {
    for (const [name, body, message] of [
      ['bad-json', '{"prefix": ', /bad-json\.manifest\.json: a manifest must be JSON/],
      [
        'both',
        '{"prefix": "a/", "keys": ["b"]}',
        /both\.manifest\.json: invalid manifest: a manifest holds either "prefix" or "keys"/,
      ],
      ['extra', '{"prefixes": ["a/"]}', /extra\.manifest\.json: invalid manifest/],
      [
        'empty-prefix',
        '{"prefix": "nothing-here/"}',
        /nothing-here\/: no objects under this prefix/,
      ],
    ] as const) {
      const key = `input/${name}.manifest.json`;
      await store.put(key, body);
      const failure = run(deps(), key);
      await expect(failure).rejects.toThrow(message);
      await expect(store.head(outputKeys(keyInput(key)).summary)).rejects.toThrow(
        ObjectNotFoundError,
      );
    }
    await expect(run(deps(), 'input/bad-json.manifest.json')).rejects.toThrow(UsageError);
  });

  it('never counts what the system wrote or other manifests under a prefix', async () => {
    const result = await runJobOnce(deps(), { input: { kind: 'prefix', prefix: '' } });
    if (result.outcome === 'superseded') throw new Error(result.reason);
    const counted = [];
    for await (const info of store.list('')) {
      if (!/^(output|results|jobs)\//.test(info.key) && !info.key.endsWith('.manifest.json'))
        counted.push(info.key);
    }
    expect(counted).toContain('corpus/sub/deeper/c.txt');
    expect(result.summary.sources.objects).toBe(counted.length);
  });
});

describe('jobs that survive', () => {
  it('publishes nothing over a newer version uploaded while it reduced; the newer one wins', async () => {
    const key = 'input/overwritten.txt';
    const big = Array.from({ length: 20_000 }, (_, i) => `old${i}`).join(' ');
    await store.put(key, big);
    let newer: Awaited<ReturnType<typeof runJobOnce>> | undefined;
    // Holds the old job at its first reduce task: a small new version is uploaded and
    // counted to the end meanwhile.
    const racing: FunctionRunner = {
      async invoke(name, payload) {
        if ((payload as { type?: string }).type === 'reduce' && newer === undefined) {
          await store.put(key, 'new small version');
          newer = await run(deps(), key);
        }
        return runner.invoke(name, payload);
      },
      close: async () => undefined,
    };
    const older = await run(deps({ runner: racing, inlineLimitBytes: 0 }), key);
    expect(newer?.outcome).toBe('published');
    expect(older.outcome).toBe('superseded');
    const summary = SummarySchema.parse(JSON.parse(await text(summaryKey(key))));
    expect(summary.jobId).toBe(newer?.jobId);
    expect(summary.source.etag).toBe((await store.head(key)).etag);
    expect(await text(countsKey(key))).toBe('new\t1\nsmall\t1\nversion\t1\n');
    expect((await store.head(countsKey(key))).metadata?.['job-id']).toBe(newer?.jobId);
    const status = JobStatusSchema.parse(JSON.parse(await text(statusKey(older.jobId))));
    expect(status).toMatchObject({ state: 'superseded' });
    expect(status.reason).toMatch(/newer version/);
  });

  it('records an overwrite mid-map as superseded, as the queue does', async () => {
    const key = 'input/overwritten-mid-map.txt';
    await store.put(key, 'x '.repeat(20_000));
    let overwritten = false;
    // The object changes before the first map task reads it: its If-Match read fails.
    const racing: FunctionRunner = {
      async invoke(name, payload) {
        if (!overwritten) {
          overwritten = true;
          await store.put(key, 'the newer version');
        }
        return runner.invoke(name, payload);
      },
      close: async () => undefined,
    };
    const older = await run(deps({ runner: racing }), key);
    expect(older.outcome).toBe('superseded');
    const status = JobStatusSchema.parse(JSON.parse(await text(statusKey(older.jobId))));
    expect(status.state).toBe('superseded');
    expect(status.reason).toMatch(
      /PreconditionFailedError.*a newer version of the input was uploaded/,
    );
    await expect(store.head(summaryKey(key))).rejects.toThrow(ObjectNotFoundError);
    expect(await listed(`jobs/${older.jobId}/`)).toEqual([statusKey(older.jobId)]);
    expect(await listed(activeJobKey(older.jobId))).toEqual([]);
  });

  it('repairs a publish that failed after the counts were written, without counting again', async () => {
    const key = 'input/half-published.txt';
    await store.put(key, 'half published words words');
    const out = outputKeys(keyInput(key));
    let failOnce = true;
    // The real store, but the summary's first write fails.
    const flaky = Object.assign(Object.create(store) as FileObjectStore, {
      put: (
        k: string,
        body: Parameters<FileObjectStore['put']>[1],
        options?: Parameters<FileObjectStore['put']>[2],
      ) => {
        if (k === out.summary && failOnce) {
          failOnce = false;
          return Promise.reject(new Error('S3 said 500'));
        }
        return store.put(k, body, options);
      },
    });
    await expect(run(deps({ store: flaky }), key)).rejects.toThrow(/S3 said 500/);
    // Half done, and a reader can tell: counts of the new job, no summary naming it.
    const countsJob = (await store.head(out.counts)).metadata?.['job-id'];
    await expect(store.head(out.summary)).rejects.toThrow(ObjectNotFoundError);
    const status = JobStatusSchema.parse(JSON.parse(await text(statusKey(countsJob as string))));
    expect(status.state).toBe('counted');
    // The next attempt publishes from what was counted: a recount would fail here.
    const again = await run(deps({ taskFunction: 'nosuch' }), key);
    expect(again.outcome).toBe('published');
    const summary = SummarySchema.parse(JSON.parse(await text(out.summary)));
    expect(summary.jobId).toBe(countsJob);
    expect(await text(out.counts)).toBe('words\t2\nhalf\t1\npublished\t1\n');
  });

  it('counts again when the published counts were deleted, and makes a deleted report again', async () => {
    const key = 'input/mended.txt';
    await store.put(key, 'mend the mended output');
    const out = outputKeys(keyInput(key));
    const first = await run(deps(), key);
    await store.delete(out.report);
    const repaired = await run(deps({ taskFunction: 'nosuch' }), key);
    // The report is a view of the counts: made again without counting.
    expect(repaired.outcome).toBe('already-published');
    expect((await store.head(out.report)).metadata?.['job-id']).toBe(first.jobId);
    await store.delete(out.counts);
    const recounted = await run(deps(), key);
    expect(recounted.outcome).toBe('published');
    expect(recounted.jobId).toBe(first.jobId);
    expect(await text(out.counts)).toBe('mend\t1\nmended\t1\noutput\t1\nthe\t1\n');
  });

  it('stops before the deadline, records failed with the reason, and releases its claim', async () => {
    await store.put('input/late.txt', 'x '.repeat(50_000));
    const slow: FunctionRunner = {
      async invoke(name, payload) {
        await new Promise((r) => setTimeout(r, 300));
        return runner.invoke(name, payload);
      },
      close: async () => undefined,
    };
    let remaining = 120_000;
    const failure = runJobOnce(
      deps({ runner: slow, defaultChunkSize: 1024 }),
      { input: keyInput('input/late.txt') },
      { remainingMs: () => (remaining -= 10_000) },
    );
    await expect(failure).rejects.toThrow(/deadline is under 60 s away/);
    const statuses = (await listed('jobs/')).filter((k) => k.endsWith('/status.json'));
    const mine = await Promise.all(
      statuses.map(async (k) => JobStatusSchema.parse(JSON.parse(await text(k)))),
    );
    const late = mine.find((s) => s.input.uri.endsWith('late.txt'));
    expect(late).toMatchObject({ state: 'failed' });
    expect(late?.reason).toMatch(/deadline/);
    await expect(store.head(claimKey(late?.jobId as string))).rejects.toThrow(ObjectNotFoundError);
  });
});

describe('uploads that cannot be counted', () => {
  it('records a manifest naming a missing key as refused, with the reason, and writes nothing else', async () => {
    const key = 'input/missing-key.manifest.json';
    await store.put('refusal/there.txt', 'present');
    await store.put(key, JSON.stringify({ keys: ['refusal/there.txt', 'refusal/not-there.txt'] }));
    const before = new Set(await listed('jobs/'));
    const said = await startUpload(
      { store, bucket: 'local', start: (request) => runJobOnce(deps(), request) },
      { key, version: 'upload-1' },
    );
    expect(said).toMatch(/^refused: .*not-there\.txt: no such file/);
    const report = await viewJob(store, (await latestJobId(store, summaryKey(key))) as string);
    expect(report?.status.state).toBe('refused');
    expect(report?.status.reason).toMatch(/refusal\/not-there\.txt: no such file/);
    // The status record and the pointer to it: nothing else, no output, nothing active.
    const written = (await listed('jobs/')).filter((k) => !before.has(k));
    expect(written.sort()).toEqual(
      [statusKey(report?.status.jobId as string), `jobs/latest/${summaryKey(key)}`].sort(),
    );
    await expect(store.head(summaryKey(key))).rejects.toThrow(ObjectNotFoundError);
  });

  it('records a corrupt upload failed at once, and leaves one that changed meanwhile to a retry', async () => {
    const before = new Set(await listed('jobs/'));
    const changed = startUpload(
      {
        store,
        bucket: 'local',
        start: async () => {
          throw new PreconditionFailedError('s3://local/input/x.txt: changed while it was read');
        },
      },
      { key: 'input/x.txt', version: 'v1' },
    );
    await expect(changed).rejects.toThrow(PreconditionFailedError);
    expect((await listed('jobs/')).filter((k) => !before.has(k))).toEqual([]);
    const said = await startUpload(
      {
        store,
        bucket: 'local',
        start: async () => {
          throw new CorruptInputError('s3://local/input/y.gz: not a valid gzip stream');
        },
      },
      { key: 'input/y.gz', version: 'v1' },
    );
    expect(said).toMatch(
      /^failed: .*y\.gz: not a valid gzip stream \(recorded as job [0-9a-f]{32}\)$/,
    );
  });

  it('records an upload whose name is too long to count, writing no key over 1,024 bytes', async () => {
    // Refused before the object is read: a name the file store could not even hold.
    const key = `input/${'long/'.repeat(201)}x.txt`;
    const before = new Set(await listed('jobs/'));
    const said = await startUpload(
      { store, bucket: 'local', start: (request) => runJobOnce(deps(), request) },
      { key, version: 'upload-long' },
    );
    expect(said).toMatch(/^refused: .*its name is too long to count/);
    const written = (await listed('jobs/')).filter((k) => !before.has(k));
    // The status record under its id; its pointer would be a key S3 refuses.
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^jobs\/[0-9a-f]{32}\/status\.json$/);
    expect(Math.max(...written.map((k) => Buffer.byteLength(k)))).toBeLessThanOrEqual(1024);
  });
});

describe('limits at the door', () => {
  it('refuses a job of too many tasks before writing anything', async () => {
    // A sparse file: its size is all admission looks at; nothing of it is read.
    await store.put('input/too-many.txt', '');
    await truncate(join(root, 'input/too-many.txt'), 100_001 * 65_536);
    const before = await listed('jobs/');
    await expect(run(deps(), 'input/too-many.txt', { chunkSize: '64KiB' })).rejects.toThrow(
      /100001 tasks of 64KiB is over the limit of 100000 per job/,
    );
    expect(await listed('jobs/')).toEqual(before);
  });

  it("refuses an input whose output keys would pass S3's 1,024 bytes, naming it", async () => {
    const key = `input/${'long-'.repeat(200)}.txt`;
    const before = await listed('jobs/');
    await expect(run(deps(), key)).rejects.toThrow(
      /s3:\/\/local\/input\/long-long-.*: its name is too long to count: .* would be 1\d{3} bytes, over S3's 1024/,
    );
    expect(await listed('jobs/')).toEqual(before);
  });

  it('names the real bounds of a requested chunk size', async () => {
    await store.put('input/bounds.txt', 'a b c');
    await expect(run(deps(), 'input/bounds.txt', { chunkSize: 65535 })).rejects.toThrow(
      'chunkSize 63.99KiB is below the minimum of 64KiB',
    );
    await expect(run(deps(), 'input/bounds.txt', { chunkSize: '2GiB' })).rejects.toThrow(
      'chunkSize 2GiB is above the maximum of 1GiB',
    );
  });

  it('rejects unknown fields, a top over 1000, and a folder key in a direct request', () => {
    const bad = (request: object) => () => parsePayload(JobRequestSchema, request, 'job request');
    expect(bad({ bucket: 'b', key: 'k', chunksize: '1MiB' })).toThrow(/Unrecognized key/);
    expect(bad({ bucket: 'b', key: 'k', top: 10_000_000 })).toThrow(/at top/);
    expect(bad({ bucket: 'b', key: 'input/books/' })).toThrow(/a key ending in \/ is a folder/);
    expect(bad({ bucket: 'b', key: 'k', prefix: 'p/' })).toThrow(
      /exactly one of key, prefix or keys/,
    );
  });
});
