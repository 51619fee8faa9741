/**
 * The AWS path on the emulator, over HTTP: S3 notification → orchestrator Lambda →
 * counter Lambdas → S3 output, compared with the embedded backend.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  DeleteFunctionConcurrencyCommand,
  InvokeCommand,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import { DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LambdaRunner } from '../../lib/adapters/lambda-runner.js';
import { S3ObjectStore } from '../../lib/adapters/s3-store.js';
import { type JobStatus, JobStatusSchema } from '../../lib/contracts/status.js';
import { SummarySchema } from '../../lib/contracts/summary.js';
import { InvocationError } from '../../lib/errors.js';
import { outputKeys } from '../../lib/keys.js';
import { functionRunnerContract } from '../contract/function-runner.js';
import { objectStoreContract } from '../contract/object-store.js';
import { taskQueueContract } from '../contract/task-queue.js';
import { runCli } from '../support/cli.js';
import { sqsFixture } from '../support/sqs-fixture.js';
import {
  BUCKET,
  COUNTER,
  clients,
  download,
  emulatorEnv,
  expectCostOfJob,
  FAILING_COUNTER,
  listKeys,
  ORCHESTRATOR,
  upload,
  waitFor,
} from './aws.js';

const endpoint = inject('endpoint');
const summaryKey = (key: string) => outputKeys({ kind: 'key', key }).summary;
const countsKey = (key: string) => outputKeys({ kind: 'key', key }).counts;
const { s3, lambda } = clients(endpoint);
const run = randomUUID().slice(0, 8);
const sample = new URL('../../samples/kjv-genesis.txt', import.meta.url).pathname;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wordcount-e2e-'));
});
afterAll(() => {
  s3.destroy();
  lambda.destroy();
});

/** What the embedded backend (the local CLI) says about files or directories. */
async function embedded(path: string | string[], mode = 'words') {
  const counts = join(dir, `embedded-${randomUUID()}.tsv`);
  const paths = typeof path === 'string' ? [path] : path;
  const result = await runCli(['count', ...paths, '--mode', mode, '--json', '--counts', counts]);
  expect(result.code).toBe(0);
  return {
    summary: SummarySchema.parse(JSON.parse(result.stdout)),
    tsv: await readFile(counts, 'utf8'),
  };
}

/** The status record of the job counting `key` (or prefix), if there is one. */
async function jobStatus(key: string): Promise<JobStatus | undefined> {
  const statusKeys = (await listKeys(s3, 'jobs/')).filter((k) => k.endsWith('/status.json'));
  const statuses = await Promise.all(statusKeys.map((k) => download(s3, k)));
  return statuses
    .map((body) => JobStatusSchema.parse(JSON.parse(body ?? '{}')))
    .find((status) => status.input.uri === `s3://${BUCKET}/${key}`);
}

async function waitForStatus(key: string, state: JobStatus['state']): Promise<JobStatus> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await jobStatus(key);
    if (status?.state === state) return status;
    if (Date.now() > deadline)
      throw new Error(`job for ${key} is ${status?.state ?? 'unknown'}, not ${state}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Kills (SIGKILL) every process of the emulator running `fn` of this stack; how many. */
function killFunctionProcesses(fn: string): number {
  let killed = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes(`ministack-lambda-${ORCHESTRATOR.replace('-orchestrator', '')}-${fn}-`)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
        killed++;
      } catch {
        // already gone
      }
    }
  }
  return killed;
}

/** Waits for a summary of `key` whose job's status says succeeded. */
async function waitForPublished(key: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const summary = await download(s3, summaryKey(key));
    if (summary !== undefined && (await jobStatus(key))?.state === 'succeeded') return summary;
    if (Date.now() > deadline) throw new Error(`${key} was not published within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function invoke(functionName: string, payload: unknown) {
  const out = await lambda.send(
    new InvokeCommand({
      FunctionName: functionName,
      Payload: new TextEncoder().encode(JSON.stringify(payload)),
    }),
  );
  const text = new TextDecoder().decode(out.Payload);
  return { functionError: out.FunctionError, body: text ? JSON.parse(text) : null };
}

objectStoreContract('S3ObjectStore on the emulator', () => ({
  store: new S3ObjectStore(s3, BUCKET),
  prefix: `contract/${run}/${randomUUID().slice(0, 6)}`,
}));

taskQueueContract('SqsTaskQueue on the emulator', sqsFixture(endpoint));

functionRunnerContract('LambdaRunner on the emulator', () => ({
  runner: new LambdaRunner(lambda, { concurrency: 4 }),
  counter: COUNTER,
  store: new S3ObjectStore(s3, BUCKET),
  bucket: BUCKET,
  prefix: `contract/${run}/${randomUUID().slice(0, 6)}`,
}));

describe('upload → S3 notification → orchestrator → counters → output', () => {
  it('publishes the same counts as the embedded backend, for a key with spaces and non-ASCII', async () => {
    const key = `input/e2e ${run}/Genèse de la Bible €.txt`;
    await upload(s3, key, await readFile(sample));
    const summary = SummarySchema.parse(JSON.parse(await waitFor(s3, summaryKey(key))));
    const tsv = await download(s3, countsKey(key));
    const local = await embedded(sample);
    expect(tsv).toBe(local.tsv);
    expect(summary.totalWords).toBe(local.summary.totalWords);
    expect(summary.distinctWords).toBe(local.summary.distinctWords);
    expect(summary.top).toEqual(local.summary.top);
    expect(summary.source.uri).toBe(`s3://${BUCKET}/${key}`);
    expect(summary.chunks).toBeGreaterThan(1); // the stack is deployed with 64KiB chunks
    // status.json is written after the summary: wait for its final state.
    const status = await waitForStatus(key, 'succeeded');
    expect(status.tasks.mapDone).toBe(status.tasks.map);
    expect(status.tasks.map).toBe(summary.chunks);
    expectCostOfJob(summary.cost, { tasks: summary.chunks, mapTasks: summary.chunks, sqs: false });
    // The report beside them: one HTML page of the same counts, the summary's figures in it.
    const report = await download(s3, outputKeys({ kind: 'key', key }).report);
    expect(report).toMatch(/^<!doctype html>/);
    expect(report).toContain(summary.jobId);
    expect(report).toContain('Zipf');
  });

  it('publishes once when the same event is delivered again', async () => {
    const key = `input/e2e ${run}/twice.txt`;
    await upload(s3, key, 'to be or not to be '.repeat(5000));
    await waitForStatus(key, 'succeeded');
    const before = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: summaryKey(key) }));
    const beforeBody = await download(s3, summaryKey(key));
    const event = {
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: BUCKET }, object: { key: key.replace(/ /g, '+') } },
        },
      ],
    };
    const again = await invoke(ORCHESTRATOR, event);
    expect(again.functionError).toBeUndefined();
    const after = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: summaryKey(key) }));
    expect(after.ETag).toBe(before.ETag);
    expect(after.LastModified).toEqual(before.LastModified);
    // A recount would have rewritten the summary with its own elapsedMs.
    expect(await download(s3, summaryKey(key))).toBe(beforeBody);
    // And a direct request for the same job answers with that very summary.
    const direct = await invoke(ORCHESTRATOR, { bucket: BUCKET, key });
    expect(direct.body).toEqual(JSON.parse(beforeBody ?? 'null'));
  });

  it('of two concurrent direct invocations, one counts and the other does not recount', async () => {
    const key = `staging/${run}/race.txt`;
    await upload(s3, key, 'alpha beta gamma '.repeat(50_000));
    const replies = await Promise.all([
      invoke(ORCHESTRATOR, { bucket: BUCKET, key }),
      invoke(ORCHESTRATOR, { bucket: BUCKET, key }),
    ]);
    const ok = replies.filter((r) => r.functionError === undefined);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const r of ok) expect(SummarySchema.parse(r.body).totalWords).toBe(150_000);
    // If both answered, the second answered from the first's output (same elapsedMs):
    // a second count would have measured its own.
    if (ok.length === 2) expect(ok[0]?.body).toEqual(ok[1]?.body);
    const published = JSON.parse((await download(s3, summaryKey(key))) ?? 'null');
    expect(ok.map((r) => r.body)).toContainEqual(published);
    for (const r of replies.filter((x) => x.functionError !== undefined)) {
      expect(r.body.errorMessage).toMatch(/being counted by another invocation/);
    }
  });

  it('fails a direct invocation for a missing key, naming it', async () => {
    const reply = await invoke(ORCHESTRATOR, {
      bucket: BUCKET,
      key: `input/e2e ${run}/missing.txt`,
    });
    expect(reply.functionError).toBeDefined();
    expect(reply.body.errorMessage).toContain(
      `s3://${BUCKET}/input/e2e ${run}/missing.txt: no such key`,
    );
  });

  it('reduces two million distinct words in several reduce tasks, through S3', async () => {
    const key = `staging/${run}/wide.txt`;
    const words: string[] = [];
    for (let i = 0; i < 2_000_000; i++) words.push(`w${i.toString(36)}`);
    await upload(s3, key, words.join(' '));
    const reply = await invoke(ORCHESTRATOR, {
      bucket: BUCKET,
      key,
      mode: 'whitespace',
      chunkSize: '64MiB',
      top: 1,
    });
    expect(reply.functionError).toBeUndefined();
    const summary = SummarySchema.parse(reply.body);
    expect(summary).toMatchObject({ chunks: 1, totalWords: 2_000_000, distinctWords: 2_000_000 });
    expect(summary.stats.reduceTasks).toBeGreaterThanOrEqual(4);
    const out = outputKeys({ kind: 'key', key });
    expect(out.counts.startsWith('results/key/')).toBe(true);
    const tsv = await download(s3, out.counts);
    expect(tsv?.split('\n').length).toBe(2_000_001);
    // The job's partials and shards are deleted once it has published.
    const status = await jobStatus(key);
    const scratch = (await listKeys(s3, `jobs/${status?.jobId}/`)).filter((k) =>
      /\/(map|reduce)\//.test(k),
    );
    expect(scratch).toEqual([]);
  });
});

describe('limits at the door', () => {
  it('refuses bad requests before writing anything under jobs/', async () => {
    const key = `staging/${run}/limits.txt`;
    await upload(s3, key, 'one megabyte is plenty '.repeat(50_000));
    const before = await listKeys(s3, 'jobs/');
    for (const [request, message] of [
      [{ bucket: BUCKET, key, chunkSize: '1' }, /chunkSize 1B is below the minimum of 64KiB/],
      [{ bucket: BUCKET, key, top: 10_000_000 }, /invalid job request at top/],
      [{ bucket: BUCKET, key, chunksize: '1MiB' }, /Unrecognized key/],
      [{ bucket: 'some-other-bucket', key }, /bucket 'some-other-bucket' is not served here/],
      [{ bucket: BUCKET, key: 'input/folder/' }, /a key ending in \/ is a folder/],
    ] as const) {
      const reply = await invoke(ORCHESTRATOR, request);
      expect(reply.functionError).toBeDefined();
      expect(reply.body.errorMessage).toMatch(message);
    }
    expect(await listKeys(s3, 'jobs/')).toEqual(before);
  });
});

describe('jobs that survive (RPC coordination)', () => {
  /** Distinct words enough for a job that runs a few seconds on the emulator. */
  const wide = (n: number, tag: string) =>
    Array.from({ length: n }, (_, i) => `${tag}${i.toString(36)}`).join(' ');

  it('publishes the newer version when it is uploaded while the older one reduces', async () => {
    const key = `input/e2e ${run}/overwritten.txt`;
    // Over the driver's 500,000-word inline limit: this job goes through reduce tasks.
    await upload(s3, key, wide(800_000, 'old'));
    const deadline = Date.now() + 60_000;
    // Wait for the big job's reduce phase, then upload the small version.
    for (;;) {
      const status = await jobStatus(key);
      if (status && status.tasks.reduce > 0) break;
      if (Date.now() > deadline) throw new Error('the big job never reached its reduce phase');
      await new Promise((r) => setTimeout(r, 50));
    }
    await upload(s3, key, 'the small new version');
    const small = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    // The final output is the small version's, whichever job finishes last.
    const until = Date.now() + 90_000;
    for (;;) {
      const summary = await download(s3, summaryKey(key));
      const statuses = (await listKeys(s3, 'jobs/')).filter((k) => k.endsWith('/status.json'));
      const mine = (await Promise.all(statuses.map((k) => download(s3, k))))
        .map((b) => JobStatusSchema.parse(JSON.parse(b ?? '{}')))
        .filter((st) => st.input.uri === `s3://${BUCKET}/${key}`);
      const settled =
        mine.length === 2 && mine.every((st) => st.state !== 'running' && st.state !== 'counted');
      if (summary && settled) {
        const parsed = SummarySchema.parse(JSON.parse(summary));
        expect(parsed.source.etag).toBe(small.ETag);
        expect(await download(s3, countsKey(key))).toBe('new\t1\nsmall\t1\nthe\t1\nversion\t1\n');
        expect(mine.map((st) => st.state).sort()).toEqual(expect.arrayContaining(['succeeded']));
        break;
      }
      if (Date.now() > until) throw new Error(`jobs did not settle: ${mine.map((st) => st.state)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  it('recovers from kill -9 of the orchestrator mid-job with no upload: the watchdog takes over', async () => {
    const key = `input/e2e ${run}/killed.txt`;
    const body = wide(600_000, 'k');
    await upload(s3, key, body);
    // Wait until the job is running, then kill every orchestrator process.
    const deadline = Date.now() + 60_000;
    for (;;) {
      if ((await jobStatus(key))?.state === 'running') break;
      if (Date.now() > deadline) throw new Error('the job never started');
      await new Promise((r) => setTimeout(r, 50));
    }
    const killed = killFunctionProcesses('orchestrator');
    const killedAt = Date.now();
    expect(killed).toBeGreaterThan(0);
    // Nothing else is done: the claim's heartbeat (5 s here) goes stale after 10 s, and the
    // watchdog's schedule (every minute on the emulator) starts the job again.
    const summary = SummarySchema.parse(JSON.parse(await waitForPublished(key, 150_000)));
    console.info(
      `rpc orchestrator killed mid-job: published ${Math.round((Date.now() - killedAt) / 1000)} s after the kill, by the watchdog`,
    );
    expect(summary.totalWords).toBe(600_000);
    expect(summary.distinctWords).toBe(600_000);
    expect((await jobStatus(key))?.state).toBe('succeeded');
  }, 200_000);

  it('records the job superseded when its input is overwritten mid-map, and publishes the newer one', async () => {
    const key = `input/e2e ${run}/mid-map.txt`;
    await upload(s3, key, wide(300_000, 'mm'));
    const deadline = Date.now() + 60_000;
    let old: JobStatus | undefined;
    // Planned (its map tasks recorded) and running: the overwrite lands mid-map.
    for (;;) {
      old = await jobStatus(key);
      if (old?.state === 'running' && old.tasks.map > 0) break;
      if (Date.now() > deadline) throw new Error('the job never got into its map phase');
      await new Promise((r) => setTimeout(r, 20));
    }
    await upload(s3, key, 'the newer version');
    const until = Date.now() + 90_000;
    for (;;) {
      const status = JobStatusSchema.parse(
        JSON.parse((await download(s3, `jobs/${old.jobId}/status.json`)) ?? '{}'),
      );
      const summary = await download(s3, summaryKey(key));
      if (status.state !== 'running' && summary !== undefined) {
        expect(status.state).toBe('superseded');
        expect(status.reason).toMatch(/a newer version of the input was uploaded/);
        expect(await download(s3, countsKey(key))).toBe('newer\t1\nthe\t1\nversion\t1\n');
        break;
      }
      if (Date.now() > until) throw new Error(`the old job stayed ${status.state}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  it('counts again when the published counts were deleted and the same bytes are uploaded again', async () => {
    const key = `input/e2e ${run}/mended.txt`;
    await upload(s3, key, 'mend what was deleted');
    await waitForPublished(key, 60_000);
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: countsKey(key) }));
    await upload(s3, key, 'mend what was deleted');
    expect(await waitFor(s3, countsKey(key), 60_000)).toBe(
      'deleted\t1\nmend\t1\nwas\t1\nwhat\t1\n',
    );
    // The counts are copied first, the summary and the status follow.
    expect((await waitForStatus(key, 'succeeded')).state).toBe('succeeded');
  });

  it('records an uploaded manifest naming a missing key as refused, which status prints', async () => {
    const key = `input/e2e ${run}/missing.manifest.json`;
    await upload(s3, key, JSON.stringify({ keys: [`input/e2e ${run}/nowhere.txt`] }));
    const status = await waitForStatus(key, 'refused');
    expect(status.reason).toMatch(/nowhere\.txt: no such (key|object)/);
    const shown = await runCli(['status', `s3://${BUCKET}/${key}`], emulatorEnv(endpoint));
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/state +refused/);
    expect(shown.stdout).toMatch(/reason +.*nowhere\.txt/);
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: summaryKey(key) })),
    ).rejects.toThrow();
  });
});

describe('a corpus of many objects', () => {
  const prefix = `corpus-${run}/`;
  let local: string;
  let expected: { summary: ReturnType<typeof SummarySchema.parse>; tsv: string };

  beforeAll(async () => {
    // A few hundred small documents, one object big enough to be cut into ranges at the
    // stack's 64KiB chunks, and a gzip one; the same files on disk for the embedded count.
    local = join(dir, 'corpus');
    const genesis = await readFile(sample, 'utf8');
    const files = new Map<string, Uint8Array>();
    for (let i = 0; i < 300; i++) {
      const from = (i * 997) % (genesis.length - 600);
      files.set(
        `doc-${String(i).padStart(3, '0')}.txt`,
        new TextEncoder().encode(genesis.slice(from, from + 500)),
      );
    }
    files.set('books/genesis.txt', await readFile(sample));
    files.set('books/genesis-again.txt.gz', gzipSync(await readFile(sample)));
    for (const [name, body] of files) {
      await mkdir(dirname(join(local, name)), { recursive: true });
      await writeFile(join(local, name), body);
    }
    const entries = [...files];
    for (let i = 0; i < entries.length; i += 32) {
      await Promise.all(
        entries.slice(i, i + 32).map(([name, body]) => upload(s3, `${prefix}${name}`, body)),
      );
    }
    expected = await embedded(local);
  }, 120_000);

  it('counts a prefix through the CLI exactly as the embedded backend counts the files', async () => {
    const counts = join(dir, 'corpus-s3.tsv');
    const result = await runCli(
      [
        'count',
        `s3://${BUCKET}/${prefix}`,
        '--function',
        ORCHESTRATOR,
        '--json',
        '--counts',
        counts,
      ],
      emulatorEnv(endpoint),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = SummarySchema.parse(JSON.parse(result.stdout));
    expect(await readFile(counts, 'utf8')).toBe(expected.tsv);
    expect(summary.sources.objects).toBe(302);
    expect(summary.totalWords).toBe(expected.summary.totalWords);
    expect(summary.stats.uncompressedBytes).toBe(expected.summary.stats.uncompressedBytes);
    // 300 small objects are packed: a few tasks, not hundreds.
    expect(summary.stats.mapTasks).toBeLessThan(20);
  });

  it('runs the job a manifest upload names and publishes it under output/', async () => {
    const manifest = `input/${prefix.slice(0, -1)}.manifest.json`;
    await upload(s3, manifest, JSON.stringify({ prefix }));
    const out = outputKeys({ kind: 'key', key: manifest });
    const summary = SummarySchema.parse(JSON.parse(await waitFor(s3, out.summary)));
    expect(summary.sources.objects).toBe(302);
    expect(await download(s3, out.counts)).toBe(expected.tsv);
  });
});

describe('the CLI on s3:// sources', () => {
  it('prints the same summary as a local count and copies the counts file and the report', async () => {
    const key = `staging/${run}/cli sample.txt`;
    await upload(s3, key, await readFile(sample));
    const counts = join(dir, 'cli-s3.tsv');
    const result = await runCli(
      [
        'count',
        `s3://${BUCKET}/${key}`,
        '--function',
        ORCHESTRATOR,
        '--mode',
        'whitespace',
        '--json',
        '--counts',
        counts,
        '--report',
        join(dir, 'cli-s3.report.html'),
      ],
      emulatorEnv(endpoint),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = SummarySchema.parse(JSON.parse(result.stdout));
    const local = await embedded(sample, 'whitespace');
    expect(summary.totalWords).toBe(local.summary.totalWords);
    expect(await readFile(counts, 'utf8')).toBe(local.tsv);
    const report = await readFile(join(dir, 'cli-s3.report.html'), 'utf8');
    expect(report).toBe(await download(s3, outputKeys({ kind: 'key', key }).report));
  });

  it('exits 1 with the function message for a missing key', async () => {
    const result = await runCli(
      ['count', `s3://${BUCKET}/staging/${run}/none.txt`, '--function', ORCHESTRATOR],
      emulatorEnv(endpoint),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^wordcount: wordcount-local-orchestrator: .*no such key\n$/);
  });
});

describe('throttling', () => {
  it('retries 429s from Lambda and gives up cleanly after its budget', async () => {
    await lambda.send(
      new PutFunctionConcurrencyCommand({
        FunctionName: FAILING_COUNTER,
        ReservedConcurrentExecutions: 0,
      }),
    );
    try {
      const runner = new LambdaRunner(lambda, { concurrency: 2, maxAttempts: 3, baseDelayMs: 20 });
      const started = Date.now();
      const failure = runner.invoke(FAILING_COUNTER, { range: { index: 0 } });
      await expect(failure).rejects.toThrow(InvocationError);
      await expect(failure).rejects.toThrow(/TooManyRequestsException.*gave up after 3 attempts/);
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: FAILING_COUNTER }));
    }
  });
});

it('writes nothing the system produces under the trigger prefix', async () => {
  const written = [...(await listKeys(s3, 'output/')), ...(await listKeys(s3, 'jobs/'))];
  expect(written.length).toBeGreaterThan(0);
  expect(written.some((k) => k.startsWith('input/'))).toBe(false);
  await writeFile(join(dir, 'done'), 'ok');
});
