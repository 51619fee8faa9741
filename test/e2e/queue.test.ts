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
import {
  DeleteFunctionConcurrencyCommand,
  ListEventSourceMappingsCommand,
  PutFunctionConcurrencyCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  PurgeQueueCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { QueuedReplySchema } from '../../lib/contracts/queue.js';
import { type JobStatus, JobStatusSchema } from '../../lib/contracts/status.js';
import { type Summary, SummarySchema } from '../../lib/contracts/summary.js';
import { latestJobKey, outputKeys } from '../../lib/keys.js';
import { runCli } from '../support/cli.js';
import {
  clients,
  download,
  emulatorEnv,
  expectCostOfJob,
  functionLogs,
  functionPids,
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
const sqs = new SQSClient({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
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
  sqs.destroy();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not so after ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function tasksQueueUrl(): Promise<string> {
  const { QueueUrl } = await sqs.send(
    new GetQueueUrlCommand({ QueueName: `${QUEUE_PREFIX}-tasks` }),
  );
  return QueueUrl ?? '';
}

/** Messages waiting in the task queue, and in flight. */
async function queueDepth(): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: await tasksQueueUrl(),
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/**
 * Kills the orchestrator (SIGKILL) once a job's claim for `key` is written and before its
 * status is: the start is cut short where nothing but the claim (and the active record) is
 * left. Returns when it was killed.
 */
async function killAfterClaim(key: string): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const active = await listKeys(s3, 'jobs/active/', QUEUE_BUCKET);
    for (const marker of active) {
      const jobId = marker.slice('jobs/active/'.length, -'.json'.length);
      const record = JSON.parse((await download(s3, marker, QUEUE_BUCKET)) ?? '{}') as {
        request?: { input?: { key?: string } };
      };
      if (record.request?.input?.key !== key) continue;
      if ((await download(s3, `jobs/${jobId}/claim.json`, QUEUE_BUCKET)) === undefined) continue;
      for (const pid of functionPids(QUEUE_ORCHESTRATOR)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      const killedAt = Date.now();
      expect(await download(s3, `jobs/${jobId}/status.json`, QUEUE_BUCKET)).toBeUndefined();
      return killedAt;
    }
    if (Date.now() > deadline) throw new Error(`no claim of ${key} was seen`);
    await sleep(5);
  }
}

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

describe('the watchdog on the emulator (lost messages, a start cut short, a held counter)', () => {
  const mappingOf = async (fn: string, queue: string) => {
    const { EventSourceMappings = [] } = await lambda.send(
      new ListEventSourceMappingsCommand({ FunctionName: fn }),
    );
    const mapping = EventSourceMappings.find((m) => m.EventSourceArn?.endsWith(`:${queue}`));
    if (!mapping?.UUID) throw new Error(`no mapping of ${queue} to ${fn}`);
    return mapping.UUID;
  };
  const setMapping = async (enabled: boolean) =>
    lambda.send(
      new UpdateEventSourceMappingCommand({
        UUID: await mappingOf(COUNTER, `${QUEUE_PREFIX}-tasks`),
        Enabled: enabled,
      }),
    );

  it('finishes a job whose task messages were deleted unprocessed, with no upload and no --force', async () => {
    const key = `input/queue ${run}/purged.txt`;
    const body = `${genesis}\n${wide(20_000, 'p')}\n`;
    const expected = await embedded(body, 'purged.txt');
    // Nobody consumes the queue while the job's messages are taken away, as when
    // `sst dev`'s stand-in answers them without running anything.
    await setMapping(false);
    let purgedAt = 0;
    try {
      await upload(s3, key, body, QUEUE_BUCKET);
      const started = await waitForState(key, ['running'], 30_000);
      const tasks = started.tasks.map;
      expect(tasks).toBeGreaterThan(1);
      await waitFor(async () => (await queueDepth()) >= tasks, 30_000);
      await sqs.send(new PurgeQueueCommand({ QueueUrl: await tasksQueueUrl() }));
      purgedAt = Date.now();
    } finally {
      await setMapping(true);
    }
    // The schedule runs the watchdog every minute; after 15 s without progress it sends
    // the lost tasks again.
    const status = await waitForState(key, ['succeeded', 'failed', 'superseded'], 150_000);
    console.info(
      `queue messages purged: published ${Math.round((Date.now() - purgedAt) / 1000)} s later, by the watchdog`,
    );
    expect(status.reason).toBeUndefined();
    expect(status.state).toBe('succeeded');
    const { summary, tsv } = await published(key);
    expect(tsv).toBe(expected.tsv);
    expect(summary.jobId).toBe(status.jobId);
    await expectCleanedUp(status.jobId);
  }, 240_000);

  it('finishes a start whose orchestrator was killed just after its claim: the watchdog starts it', async () => {
    // Many objects over the chunk size: planning reads each one's first bytes, which
    // keeps the start between its claim and its status record for a while.
    const prefix = `queue ${run}/claimed/`;
    const bodies: string[] = [];
    for (let i = 0; i < 120; i++) {
      const body = `${wide(12_000, `c${i}x`)}\n`;
      bodies.push(body);
      await upload(s3, `${prefix}doc-${String(i).padStart(3, '0')}.txt`, body, QUEUE_BUCKET);
    }
    const manifest = `input/queue ${run}/claimed.manifest.json`;
    await upload(s3, manifest, JSON.stringify({ prefix }), QUEUE_BUCKET);
    const killedAt = await killAfterClaim(manifest);
    const status = await waitForState(manifest, ['succeeded', 'failed', 'superseded'], 150_000);
    console.info(
      `queue orchestrator killed after its claim: published ${Math.round((Date.now() - killedAt) / 1000)} s later, by the watchdog`,
    );
    expect(status.state).toBe('succeeded');
    const { summary } = await published(manifest);
    expect(summary.totalWords).toBe(120 * 12_000);
    expect(summary.sources.objects).toBe(120);
  }, 240_000);

  it('completes a job with the counter held to less concurrency than the mapping asks for', async () => {
    // Reserved concurrency 1 under a mapping of 4: on AWS the extra pollers would be
    // throttled; whatever a throttled receive costs, the job must not fail of it.
    await lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: COUNTER, ReservedConcurrentExecutions: 1 }),
    );
    try {
      const key = `input/queue ${run}/held.txt`;
      const body = `${genesis}\n`.repeat(3);
      const started = Date.now();
      await upload(s3, key, body, QUEUE_BUCKET);
      const status = await waitForState(key, ['succeeded', 'failed', 'superseded'], 180_000);
      expect(status.state).toBe('succeeded');
      const { summary } = await published(key);
      const counter = await functionLogs(endpoint, COUNTER, started);
      const redelivered = counter.lines.filter(
        (l) => l.jobId === status.jobId && /delivered again/.test(String(l.message)),
      ).length;
      console.info(
        `counter held to 1 under a mapping of 4: ${summary.stats.mapTasks} map tasks in ${Math.round(summary.elapsedMs / 1000)} s, ${redelivered} redelivered`,
      );
      expect(summary.totalWords).toBe((await embedded(body, 'held.txt')).summary.totalWords);
    } finally {
      await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: COUNTER }));
    }
  }, 240_000);
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
