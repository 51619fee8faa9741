/**
 * Queue coordination on the emulator, over HTTP: S3 notification → orchestrator →
 * SQS → counters (event source mapping, partial batch responses) → S3 commits → the
 * phases' starters → output; the dead-letter queue and its function. Processes are
 * killed for real (SIGKILL), and messages come back after the real visibility timeout.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type JobStatus,
  JobStatusSchema,
  type Summary,
  SummarySchema,
} from '../../lib/contracts.js';
import { latestJobKey, outputKeys } from '../../lib/keys.js';
import { QueuedReplySchema } from '../../lib/queue-contracts.js';
import { runCli } from '../support/cli.js';
import {
  clients,
  download,
  emulatorEnv,
  expectCostOfJob,
  functionLogs,
  killBusy,
  listKeys,
  QUEUE_BUCKET,
  QUEUE_COUNTER_TIMEOUT_SECONDS,
  QUEUE_ORCHESTRATOR,
  QUEUE_PREFIX,
  upload,
} from './aws.js';

const endpoint = inject('endpoint');
const { s3, lambda } = clients(endpoint);
const run = randomUUID().slice(0, 8);
const COUNTER = `${QUEUE_PREFIX}-counter`;
const VISIBILITY_MS = 2 * QUEUE_COUNTER_TIMEOUT_SECONDS * 1000;
const output = (key: string) => outputKeys({ kind: 'key', key });
let dir: string;
let genesis: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wordcount-e2e-queue-'));
  genesis = await readFile(new URL('../../samples/kjv-genesis.txt', import.meta.url), 'utf8');
});
afterAll(() => {
  s3.destroy();
  lambda.destroy();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the embedded backend (the local CLI) counts in the same bytes. */
async function embedded(bytes: Uint8Array | string, name: string) {
  const file = join(dir, name);
  await writeFile(file, bytes);
  const counts = join(dir, `${name}.embedded.tsv`);
  const result = await runCli(['count', file, '--json', '--counts', counts]);
  expect(result.code).toBe(0);
  return {
    summary: SummarySchema.parse(JSON.parse(result.stdout)),
    tsv: await readFile(counts, 'utf8'),
  };
}

/** The latest job for `key` (what `wordcount status` reads). */
async function latestStatus(key: string): Promise<JobStatus | undefined> {
  const pointer = await download(s3, latestJobKey(output(key).summary), QUEUE_BUCKET);
  if (!pointer) return undefined;
  const { jobId } = JSON.parse(pointer) as { jobId: string };
  const body = await download(s3, `jobs/${jobId}/status.json`, QUEUE_BUCKET);
  return body === undefined ? undefined : JobStatusSchema.parse(JSON.parse(body));
}

async function waitForState(
  key: string,
  states: JobStatus['state'][],
  timeoutMs: number,
  whileWaiting?: () => Promise<unknown>,
): Promise<JobStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await latestStatus(key);
    if (status && states.includes(status.state)) return status;
    if (Date.now() > deadline) {
      throw new Error(`job for ${key} is ${status?.state ?? 'unknown'} after ${timeoutMs} ms`);
    }
    if (whileWaiting) await whileWaiting();
    else await sleep(250);
  }
}

async function published(key: string): Promise<{ summary: Summary; tsv: string }> {
  const summary = SummarySchema.parse(
    JSON.parse((await download(s3, output(key).summary, QUEUE_BUCKET)) ?? '{}'),
  );
  return { summary, tsv: (await download(s3, output(key).counts, QUEUE_BUCKET)) ?? '' };
}

/**
 * Only the status record is left of a job that ended. The status is written first and
 * the temporaries removed after it, so this waits a little for the removal.
 */
async function expectCleanedUp(jobId: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  let keys = await listKeys(s3, `jobs/${jobId}/`, QUEUE_BUCKET);
  while (keys.length > 1 && Date.now() < deadline) {
    await sleep(250);
    keys = await listKeys(s3, `jobs/${jobId}/`, QUEUE_BUCKET);
  }
  expect(keys).toEqual([`jobs/${jobId}/status.json`]);
}

/** Text of `n` distinct words. */
const wide = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => `${tag}${i.toString(36)}`).join(' ');

/**
 * A gzip object that takes its one counter a few seconds, all of it counting (Japanese
 * through the segmenter, a few MB/s; with few distinct words, publishing is quick): a
 * kill lands mid-task.
 */
function slowGzip(): Uint8Array {
  const line = Buffer.from('東京タワーは日本の電波塔です。カタカナとひらがなの文章を数える。\n');
  return gzipSync(Buffer.concat(Array.from({ length: (8 << 20) / line.length }, () => line)));
}

/**
 * The functions' log lines of a job: JSON lines (beside the platform's START/END/REPORT)
 * that carry the job id, the request id and, on the counter, the phase; the job's
 * metrics as one EMF record; the counter time the cost counted within what Lambda billed.
 */
async function expectJobLogs(jobId: string, summary: Summary, since: number): Promise<void> {
  const counter = await functionLogs(endpoint, COUNTER, since);
  const orchestrator = await functionLogs(endpoint, `${QUEUE_PREFIX}-orchestrator`, since);
  for (const logs of [counter, orchestrator]) {
    // Every line is JSON but the runtime's own report of a failed invocation (a task
    // message that failed, say, while another task held the next phase's lease).
    expect(logs.other.filter((line) => !/^(\w*Error: |\s*at )/.test(line))).toEqual([]);
    const mine = logs.lines.filter((line) => line.jobId === jobId && line.level);
    expect(mine.length).toBeGreaterThan(0);
    for (const line of mine) {
      expect(line).toMatchObject({ service: 'wordcount', level: expect.any(String) });
      expect(line.function_request_id).toEqual(expect.any(String));
    }
  }
  const phases = counter.lines.filter((l) => l.jobId === jobId && l.level).map((l) => l.phase);
  expect(phases).toEqual(expect.arrayContaining(['map', 'reduce', 'publish']));
  expect(
    orchestrator.lines.some(
      (l) => l.jobId === jobId && /map task\(s\) queued/.test(String(l.message)),
    ),
  ).toBe(true);
  const metrics = counter.lines.filter((l) => l._aws !== undefined && l.jobId === jobId);
  expect(metrics).toHaveLength(1);
  expect(metrics[0]).toMatchObject({
    coordination: 'queue',
    JobWords: summary.totalWords,
    JobMapTasks: summary.stats.mapTasks,
    JobCostUsd: summary.cost?.usd.total,
  });
  // What the cost counted of the counter is within what the platform billed it.
  const requests = new Set(
    counter.lines.filter((l) => l.jobId === jobId).map((l) => l.function_request_id),
  );
  const billed = counter.reports
    .filter((r) => requests.has(r.requestId))
    .reduce((sum, r) => sum + r.billedMs, 0);
  expect(summary.cost?.functions.counter?.billedMs).toBeLessThanOrEqual(billed + requests.size);
}

describe('queue coordination on the emulator (SQS, event source mappings, dead letters)', () => {
  it('publishes what the embedded backend counts, through map and reduce tasks on the queue', async () => {
    const key = `input/queue ${run}/wide é.txt`;
    // Real prose and over INLINE_MAX_DISTINCT distinct words: the map results are spilled
    // and reduce tasks go through the queue too.
    const body = `${genesis}\n${wide(560_000, 'q')}\n`;
    const expected = await embedded(body, 'wide.txt');
    const started = Date.now();
    await upload(s3, key, body, QUEUE_BUCKET);
    const status = await waitForState(key, ['succeeded', 'failed', 'superseded'], 180_000);
    expect(status.reason).toBeUndefined();
    expect(status).toMatchObject({ state: 'succeeded', coordination: 'queue' });
    const { summary, tsv } = await published(key);
    expect(summary.jobId).toBe(status.jobId);
    expect(tsv).toBe(expected.tsv);
    expect(summary.totalWords).toBe(expected.summary.totalWords);
    expect(summary.distinctWords).toBe(expected.summary.distinctWords);
    expect(summary.stats.mapTasks).toBeGreaterThan(50);
    expect(summary.stats.reduceTasks).toBeGreaterThan(0);
    // The counts file is far under a finalize task's least output: no finalize tasks.
    const { mapTasks, reduceTasks } = summary.stats;
    expectCostOfJob(summary.cost, { tasks: mapTasks + reduceTasks, mapTasks, sqs: true });
    await expectCleanedUp(status.jobId);
    await expectJobLogs(status.jobId, summary, started);
  }, 240_000);

  it('completes exactly after kill -9 of the counter mid-task: the message comes back after the visibility timeout', async () => {
    // The one task takes a second or two; a kill that lands after its commit (the counter
    // busy publishing) proves nothing, so such a try is repeated with a new upload.
    for (let tries = 1; ; tries++) {
      const key = `input/queue ${run}/killed-${tries}.txt.gz`;
      const body = slowGzip();
      await upload(s3, key, body, QUEUE_BUCKET);
      const { jobId } = await waitForState(key, ['running'], 30_000);
      let killedAt = 0;
      const deadline = Date.now() + 20_000;
      while (killedAt === 0) {
        if ((await killBusy(COUNTER)) > 0) killedAt = Date.now();
        else if (Date.now() > deadline) throw new Error('no counter was seen counting');
      }
      const committed = (await listKeys(s3, `jobs/${jobId}/attempts/`, QUEUE_BUCKET)).some((k) =>
        k.includes('/commits/map/'),
      );
      const status = await waitForState(key, ['succeeded', 'failed', 'superseded'], 90_000);
      const endedAt = Date.now();
      expect(status.state).toBe('succeeded');
      const { summary } = await published(key);
      expect(summary.jobId).toBe(status.jobId);
      expect(summary.totalWords).toBe((await embedded(body, 'killed.txt.gz')).summary.totalWords);
      await expectCleanedUp(status.jobId);
      if (committed && tries < 3) continue;
      expect(committed).toBe(false);
      // Not before the message came back: the killed delivery was not acknowledged.
      expect(endedAt - killedAt).toBeGreaterThan(VISIBILITY_MS - 2000);
      break;
    }
  }, 300_000);

  it('fails the job when its task dies on every delivery: dead-letter queue, reason, nothing published', async () => {
    const key = `input/queue ${run}/poison.txt.gz`;
    await upload(s3, key, slowGzip(), QUEUE_BUCKET);
    await waitForState(key, ['running'], 30_000);
    let kills = 0;
    // Kill the counter each time the message is delivered, until the job is failed.
    const status = await waitForState(key, ['failed', 'succeeded'], 150_000, async () => {
      kills += await killBusy(COUNTER, 100);
    });
    expect(status.state).toBe('failed');
    expect(kills).toBeGreaterThanOrEqual(3);
    expect(status.reason).toMatch(/^map task 0 failed on every delivery/);
    expect(await download(s3, output(key).summary, QUEUE_BUCKET)).toBeUndefined();
    expect(await download(s3, output(key).counts, QUEUE_BUCKET)).toBeUndefined();
    await expectCleanedUp(status.jobId);
  }, 200_000);

  it('fails a job over a corrupt gzip object at once, naming the error', async () => {
    const key = `input/queue ${run}/corrupt.txt.gz`;
    const gz = gzipSync(Buffer.from(genesis));
    await upload(s3, key, gz.subarray(0, gz.length - 500), QUEUE_BUCKET);
    const status = await waitForState(key, ['failed', 'succeeded'], 30_000);
    expect(status.state).toBe('failed');
    expect(status.reason).toMatch(/map task 0 failed: .*CorruptInputError/);
    expect(await download(s3, output(key).summary, QUEUE_BUCKET)).toBeUndefined();
  });

  it('publishes the newest version when the input is overwritten mid-job', async () => {
    const key = `input/queue ${run}/race.txt`;
    await upload(s3, key, wide(700_000, 'old'), QUEUE_BUCKET);
    const old = await waitForState(key, ['running'], 30_000);
    await sleep(1500);
    const small = await upload(s3, key, 'the small new version\n', QUEUE_BUCKET);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const { summary } = await published(key).catch(() => ({ summary: undefined }));
      const newest = await latestStatus(key);
      const oldStatus = JobStatusSchema.parse(
        JSON.parse((await download(s3, `jobs/${old.jobId}/status.json`, QUEUE_BUCKET)) ?? '{}'),
      );
      const settled = ['succeeded', 'superseded', 'failed'].includes(oldStatus.state);
      if (summary?.source.etag === small.etag && newest?.state === 'succeeded' && settled) {
        expect((await published(key)).tsv).toBe('new\t1\nsmall\t1\nthe\t1\nversion\t1\n');
        expect(summary.jobId).toBe(newest.jobId);
        // The old job either finished before the overwrite (and was then replaced) or
        // found the newer version and published nothing.
        expect(['succeeded', 'superseded']).toContain(oldStatus.state);
        break;
      }
      if (Date.now() > deadline) throw new Error(`not settled: old job ${oldStatus.state}`);
      await sleep(500);
    }
  }, 180_000);
});

describe('the CLI with queue coordination', () => {
  const env = () => ({ ...emulatorEnv(endpoint), AWS_REGION: '', AWS_DEFAULT_REGION: 'us-east-1' });

  it('queues with --no-wait, shows the status, and waits for the output of a forced recount', async () => {
    // Under staging/: no trigger, the CLI starts the job.
    const key = `staging/queue ${run}/cli.txt`;
    await upload(s3, key, genesis, QUEUE_BUCKET);
    const uri = `s3://${QUEUE_BUCKET}/${key}`;
    const expected = await embedded(genesis, 'cli.txt');

    const queued = await runCli(
      ['count', uri, '--function', QUEUE_ORCHESTRATOR, '--no-wait', '--json'],
      env(),
    );
    expect(queued.stderr).toBe('');
    expect(queued.code).toBe(0);
    const reply = QueuedReplySchema.parse(JSON.parse(queued.stdout));
    expect(reply.outcome).toBe('queued');

    const status = await runCli(['status', uri, '--json'], env());
    expect(status.code).toBe(0);
    const record = JSON.parse(status.stdout) as JobStatus & { progress?: { tasks: number } };
    expect(record.jobId).toBe(reply.jobId);
    expect(['running', 'counted', 'succeeded']).toContain(record.state);

    // Waits (no terminal: no bar) and prints the summary of the published output.
    const forced = await runCli(
      ['count', uri, '--function', QUEUE_ORCHESTRATOR, '--force', '--json', '--top', '5'],
      env(),
    );
    expect(forced.stderr).toBe('');
    expect(forced.code).toBe(0);
    const summary = SummarySchema.parse(JSON.parse(forced.stdout));
    expect(summary.jobId).not.toBe(reply.jobId);
    expect(summary.top).toEqual(expected.summary.top.slice(0, 5));
    expect(summary.totalWords).toBe(expected.summary.totalWords);

    const table = await runCli(['status', uri], env());
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      new RegExp(`^job +${summary.jobId} \\(queue coordination\\)`, 'm'),
    );
    expect(table.stdout).toMatch(/^state +succeeded$/m);
  });

  it('says so when no job is recorded for an input', async () => {
    const result = await runCli(['status', `s3://${QUEUE_BUCKET}/nothing-${run}.txt`], env());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no job is recorded for this input/);
  });
});
