/**
 * Queue coordination on the embedded backend: real files, real worker threads, the
 * in-process queue with SQS's delivery rules, and injected duplicates, losses, lost
 * acknowledgements, crashes and poison tasks. Every run is checked against a single
 * pass over the same bytes, and every output must be written exactly once.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lib/adapters/file-store.js';
import {
  InProcessQueue,
  type QueuedMessage,
  type QueueFaults,
} from '../../lib/adapters/in-process-queue.js';
import { WorkerPoolRunner } from '../../lib/adapters/worker-pool/runner.js';
import { parsePayload } from '../../lib/contracts/parse.js';
import type { TaskMessage } from '../../lib/contracts/queue.js';
import { ActiveJobSchema } from '../../lib/contracts/requests.js';
import { JobStatusSchema } from '../../lib/contracts/status.js';
import { type Summary, SummarySchema } from '../../lib/contracts/summary.js';
import type { TaskRequest } from '../../lib/contracts/tasks.js';
import { isTerminal, latestJobId } from '../../lib/job/ledger/status.js';
import { handleDeadLetter } from '../../lib/job/queue/ending.js';
import { type StartDeps, startQueuedJob } from '../../lib/job/queue/start.js';
import { handleQueueMessage } from '../../lib/job/queue/task-messages.js';
import { startUpload } from '../../lib/job/uploads.js';
import { sweep, type WatchdogDeps } from '../../lib/job/watchdog.js';
import {
  activeJobKey,
  attemptPrefix,
  type InputName,
  outputKeys,
  statusKey,
} from '../../lib/keys.js';
import type { TaskQueue } from '../../lib/ports.js';
import { ObservedStore } from '../support/observed-store.js';
import { expectedTsv } from '../support/oracle.js';
import { taskWorkerScript } from '../support/workers.js';

let root: string;
let files: FileObjectStore;
let runner: WorkerPoolRunner;
let genesis: Uint8Array;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'wordcount-queue-'));
  files = new FileObjectStore(root);
  runner = new WorkerPoolRunner({
    size: 2,
    script: taskWorkerScript(),
    workerData: { sourceRoot: root, workRoot: root },
  });
  genesis = await readFile(new URL('../../samples/kjv-genesis.txt', import.meta.url));
});
afterAll(() => runner.close());

const keyInput = (key: string): InputName => ({ kind: 'key', key });

interface Harness {
  store: ObservedStore;
  queue: InProcessQueue;
  deps: StartDeps;
  sent: TaskMessage[];
  log: string[];
}

interface HarnessOptions {
  faults?: QueueFaults;
  /** Fails a task on every delivery, as a process that always runs out of memory. */
  poison?: (request: TaskRequest) => boolean;
  /** Runs a task until the function's deadline (this many ms), where it is stopped. */
  overrun?: { task: (request: TaskRequest) => boolean; deadlineMs: number };
  /** Fails the queue's next send of this phase's tasks, once (the sender dies). */
  failSendOf?: TaskMessage['phase'];
  partitioned?: boolean;
  visibilityMs?: number;
  maxReceives?: number;
}

/** A job's world: the store, the queue, and the driver's handlers consuming it. */
function harness(options: HarnessOptions = {}): Harness {
  const store = new ObservedStore(files);
  const sent: TaskMessage[] = [];
  const log: string[] = [];
  let failSend = options.failSendOf;
  const queue: TaskQueue = {
    async send(messages, options) {
      const phase = (messages[0] as TaskMessage | undefined)?.phase;
      if (failSend && phase === failSend) {
        failSend = undefined;
        throw new Error(`the sender of the ${phase} tasks died`);
      }
      sent.push(...(messages as TaskMessage[]).filter((m) => m.phase !== undefined));
      await inProcess.send(messages, options);
    },
  };
  const deps: StartDeps = {
    store,
    queue,
    runTask: async (request) => {
      if (options.poison?.(request)) throw new Error('the task ran out of memory');
      if (options.overrun?.task(request)) {
        await new Promise((r) => setTimeout(r, (options.overrun?.deadlineMs ?? 0) + 100));
        throw new Error('the function was stopped');
      }
      return runner.invoke('counter', request);
    },
    ...(options.overrun && { remainingMs: () => options.overrun?.deadlineMs ?? 0 }),
    heartbeatMs: 100,
    concurrency: 2,
    defaultChunkSize: 8192,
    inlineLimitBytes: options.partitioned ? 0 : 1 << 20,
    finalizeMinBytes: 8192,
    log: (line) => log.push(line),
  };
  if (process.env.QUEUE_TEST_LOG)
    deps.log = (line) => {
      log.push(line);
      console.log(line);
    };
  const inProcess = new InProcessQueue({
    log: process.env.QUEUE_TEST_LOG ? console.log : undefined,
    handle: (body, id, receives) => handleQueueMessage(deps, body, id, receives),
    deadLetter: (body, id) => handleDeadLetter(deps, body, id),
    concurrency: 2,
    // Generous, so a slow machine's redeliveries do not end in the dead-letter queue.
    maxReceives: options.maxReceives ?? 6,
    visibilityMs: options.visibilityMs ?? 1500,
    faults: options.faults,
  });
  return { store, queue: inProcess, deps, sent, log };
}

async function put(key: string, bytes: Uint8Array | string): Promise<void> {
  await writeFile(join(root, key), bytes);
}

async function text(key: string): Promise<string> {
  return new TextDecoder().decode(await files.get(key));
}

async function listed(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of files.list(prefix)) keys.push(info.key);
  return keys.sort();
}

async function statusOf(jobId: string) {
  return parsePayload(JobStatusSchema, JSON.parse(await text(statusKey(jobId))), 'status');
}

/** Starts a job for `key`, waits until the queue is empty; returns its id and outputs. */
async function runQueued(h: Harness, key: string) {
  const started = await startQueuedJob(h.deps, { input: keyInput(key) });
  await h.queue.idle();
  const output = outputKeys(keyInput(key));
  return { started, jobId: started.jobId, output };
}

async function expectPublishedOnce(
  h: Harness,
  key: string,
  bytes: Uint8Array,
  jobId: string,
): Promise<Summary> {
  const output = outputKeys(keyInput(key));
  const summary = SummarySchema.parse(JSON.parse(await text(output.summary)));
  expect(summary.jobId).toBe(jobId);
  expect(await text(output.counts)).toBe(expectedTsv('words', bytes));
  expect(h.store.writesTo(output.summary)).toBe(1);
  expect(h.store.writesTo(output.counts)).toBe(1);
  const status = await statusOf(jobId);
  expect(status.state).toBe('succeeded');
  expect(status.coordination).toBe('queue');
  // Nothing left behind but the status record; the watchdog has nothing to look at.
  expect(await listed(`jobs/${jobId}/`)).toEqual([statusKey(jobId)]);
  expect(await listed(activeJobKey(jobId))).toEqual([]);
  return summary;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The watchdog as the schedule runs it, over the harness's store and queue. */
function watchdog(h: Harness, stallMs: number): WatchdogDeps {
  return {
    store: h.store,
    stallMs,
    heartbeatMs: 100,
    log: h.deps.log,
    restart: (request) => startQueuedJob(h.deps, request),
    queue: h.deps,
  };
}

/** Sweeps every `stallMs / 2` until the job ended; returns what the sweeps did. */
async function sweepUntilEnded(h: Harness, jobId: string, stallMs = 400) {
  const actions: string[] = [];
  for (let round = 0; round < 200; round++) {
    await h.queue.idle();
    const status = await statusOf(jobId).catch(() => undefined);
    if (status && isTerminal(status.state) && (await listed(activeJobKey(jobId))).length === 0) {
      return actions;
    }
    for (const outcome of await sweep(watchdog(h, stallMs))) {
      if (outcome.jobId === jobId) actions.push(outcome.action);
    }
    await sleep(stallMs / 2);
  }
  throw new Error(`job ${jobId} never ended`);
}

/** The job recorded active for `key`. */
async function activeJobOf(key: string): Promise<string> {
  for (const found of await listed('jobs/active/')) {
    const record = ActiveJobSchema.parse(JSON.parse(await text(found)));
    const input = record.request.input;
    if (input.kind === 'key' && input.key === key) return record.jobId;
  }
  throw new Error(`no job of ${key} is recorded active`);
}

/** Task messages seen so far, by phase and index: to single out a task's first message. */
function firstMessages(predicate: (m: TaskMessage) => boolean) {
  const first = new Map<string, string>();
  return (message: QueuedMessage): boolean => {
    const body = JSON.parse(message.body) as TaskMessage;
    if (!predicate(body)) return false;
    const task = `${body.phase} ${body.index}`;
    if (!first.has(task)) first.set(task, message.messageId);
    return first.get(task) === message.messageId;
  };
}

describe('queue coordination (in-process queue, worker threads)', () => {
  it('counts a job through the queue, the inline reduce in the task that completes the map phase', async () => {
    const h = harness();
    await put('plain.txt', genesis);
    const { started, jobId } = await runQueued(h, 'plain.txt');
    expect(started.outcome).toBe('queued');
    expect(h.sent.length).toBeGreaterThan(5);
    expect(new Set(h.sent.map((m) => m.phase))).toEqual(new Set(['map']));
    const summary = await expectPublishedOnce(h, 'plain.txt', genesis, jobId);
    expect(summary.stats.mapTasks).toBe(h.sent.length);
    expect(summary.stats.reduceTasks).toBe(0);
    // Asked again, the job answers from its output.
    const again = await startQueuedJob(h.deps, { input: keyInput('plain.txt') });
    expect(again.outcome).toBe('already-published');
  });

  it('runs the map, reduce and finalize phases through the queue with every message delivered twice', async () => {
    const h = harness({ partitioned: true, faults: { duplicate: () => true } });
    await put('twice.txt', genesis);
    const { jobId } = await runQueued(h, 'twice.txt');
    const phases = new Set(h.sent.map((m) => m.phase));
    expect(phases).toEqual(new Set(['map', 'reduce', 'finalize']));
    // Two deliveries of every message, yet each phase started once (its tasks sent once),
    // each task committed once and the output written once.
    const sends = h.sent.map((m) => `${m.phase} ${m.index}`);
    expect(new Set(sends).size).toBe(sends.length);
    expect([...h.queue.deliveries.values()].every((n) => n >= 2)).toBe(true);
    const summary = await expectPublishedOnce(h, 'twice.txt', genesis, jobId);
    expect(summary.stats.reduceTasks).toBeGreaterThan(0);
    expect(h.log.some((line) => /committed (before|by a duplicate)/.test(line))).toBe(true);
  });

  it('completes when a delivery is lost, once per message', async () => {
    const h = harness({
      partitioned: true,
      visibilityMs: 800,
      faults: { lose: (m) => m.receiveCount === 1 },
    });
    await put('lost.txt', genesis);
    const { jobId } = await runQueued(h, 'lost.txt');
    // Each came back at least once (a third delivery follows a phase's lease found held).
    expect([...h.queue.deliveries.values()].every((n) => n >= 2)).toBe(true);
    await expectPublishedOnce(h, 'lost.txt', genesis, jobId);
  });

  it('completes when every consumer dies between its commit and its acknowledgement', async () => {
    const h = harness({
      partitioned: true,
      visibilityMs: 800,
      faults: { loseAck: (m) => m.receiveCount === 1 },
    });
    await put('noack.txt', genesis);
    const { jobId } = await runQueued(h, 'noack.txt');
    // Each message came back once and found its commit (or its next phase started).
    expect([...h.queue.deliveries.values()].every((n) => n >= 2)).toBe(true);
    await expectPublishedOnce(h, 'noack.txt', genesis, jobId);
  });

  it('restarts a phase whose starter died after planning it, before its tasks were sent', async () => {
    const h = harness({ partitioned: true, visibilityMs: 800, failSendOf: 'reduce' });
    await put('resend.txt', genesis);
    const { jobId } = await runQueued(h, 'resend.txt');
    // The message that completed the map phase came back and sent the reduce tasks.
    expect(h.sent.some((m) => m.phase === 'reduce')).toBe(true);
    expect([...h.queue.deliveries.values()].some((n) => n === 2)).toBe(true);
    await expectPublishedOnce(h, 'resend.txt', genesis, jobId);
  });

  it('finishes a start whose orchestrator died before sending the map tasks: the watchdog starts it again', async () => {
    const h = harness({ failSendOf: 'map' });
    await put('nostart.txt', genesis);
    const request = { input: keyInput('nostart.txt') };
    await expect(startQueuedJob(h.deps, request)).rejects.toThrow(/sender of the map tasks died/);
    const jobId = await activeJobOf('nostart.txt');
    const actions = await sweepUntilEnded(h, jobId);
    expect(actions).toContain('restarted');
    await expectPublishedOnce(h, 'nostart.txt', genesis, jobId);
  });

  it('publishes once when the publisher dies after writing the counts, before the summary', async () => {
    const h = harness({ visibilityMs: 800 });
    await put('half.txt', genesis);
    const output = outputKeys(keyInput('half.txt'));
    h.store.failWrite({
      key: new RegExp(`^${output.counts.replace(/\./g, '\\.')}$`),
      landed: true,
    });
    const { jobId } = await runQueued(h, 'half.txt');
    const summary = SummarySchema.parse(JSON.parse(await text(output.summary)));
    expect(summary.jobId).toBe(jobId);
    expect(await text(output.counts)).toBe(expectedTsv('words', genesis));
    // The counts went twice (the crash, then the redelivered publish), the summary once.
    expect(h.store.writesTo(output.counts)).toBe(2);
    expect(h.store.writesTo(output.summary)).toBe(1);
    expect((await statusOf(jobId)).state).toBe('succeeded');
  });

  it('takes over a phase whose starter died holding its lease', async () => {
    const h = harness({
      partitioned: true,
      visibilityMs: 500,
      faults: { lose: (m) => m.receiveCount === 1 },
    });
    await put('dead.txt', genesis);
    const started = await startQueuedJob(h.deps, { input: keyInput('dead.txt') });
    if (started.outcome !== 'queued') throw new Error(started.outcome);
    // A starter of the reduce phase that died at once: its lease is never renewed.
    const lease = `${attemptPrefix(started.jobId, started.attempt)}phases/reduce.lease`;
    await files.put(
      lease,
      JSON.stringify({ owner: 'dead', heartbeatAt: new Date().toISOString() }),
    );
    await h.queue.idle();
    expect(h.log.some((line) => /took over the reduce phase from dead/.test(line))).toBe(true);
    await expectPublishedOnce(h, 'dead.txt', genesis, started.jobId);
  });

  it('fails the job when a task fails on every delivery: dead letter, reason, nothing published', async () => {
    const h = harness({
      partitioned: true,
      visibilityMs: 200,
      maxReceives: 3,
      poison: (r) => r.type === 'map' && r.index === 1,
    });
    await put('poison.txt', genesis);
    const { jobId, output } = await runQueued(h, 'poison.txt');
    expect(h.queue.deadLetters).toHaveLength(1);
    const status = await statusOf(jobId);
    expect(status.state).toBe('failed');
    expect(status.reason).toMatch(/^map task 1 failed on every delivery: .*ran out of memory/);
    await expect(files.head(output.summary)).rejects.toThrow(/no such/);
    await expect(files.head(output.counts)).rejects.toThrow(/no such/);
    expect(await listed(`jobs/${jobId}/`)).toEqual([statusKey(jobId)]);
    // Asked again (the task would now succeed), the job runs as a new attempt and publishes.
    const retry = harness({ partitioned: true });
    const again = await runQueued(retry, 'poison.txt');
    expect(again.started.outcome).toBe('queued');
    await expectPublishedOnce(retry, 'poison.txt', genesis, jobId);
  });

  it('fails the job when a task times out on every delivery, saying it timed out', async () => {
    const h = harness({
      visibilityMs: 200,
      maxReceives: 3,
      overrun: { task: (r) => r.type === 'map' && r.index === 0, deadlineMs: 1600 },
    });
    await put('overrun.txt', genesis);
    const { jobId } = await runQueued(h, 'overrun.txt');
    const status = await statusOf(jobId);
    expect(status.state).toBe('failed');
    expect(status.reason).toMatch(
      /^map task 0 failed on every delivery: TaskTimeoutError: timed out after 2 s \(the counter's timeout\)$/,
    );
  });

  it('fails a job at once on a corrupt gzip object, without waiting for the retries', async () => {
    const h = harness();
    const gz = gzipSync(genesis);
    await put('broken.txt.gz', gz.subarray(0, gz.length - 1000));
    const { jobId, output } = await runQueued(h, 'broken.txt.gz');
    expect(h.queue.deadLetters).toHaveLength(0);
    expect([...h.queue.deliveries.values()].every((n) => n === 1)).toBe(true);
    const status = await statusOf(jobId);
    expect(status.state).toBe('failed');
    expect(status.reason).toMatch(/map task 0 failed: .*CorruptInputError/);
    await expect(files.head(output.summary)).rejects.toThrow(/no such/);
  });

  it('drops the messages of an earlier attempt', async () => {
    const h = harness({
      partitioned: true,
      visibilityMs: 200,
      maxReceives: 3,
      poison: (r) => r.type === 'map' && r.index === 0,
    });
    await put('attempts.txt', genesis);
    const first = await runQueued(h, 'attempts.txt');
    expect((await statusOf(first.jobId)).state).toBe('failed');
    const stale = h.sent.filter((m) => m.phase === 'map');
    const retry = harness({ partitioned: true });
    const started = await startQueuedJob(retry.deps, { input: keyInput('attempts.txt') });
    expect(started.outcome).toBe('queued');
    // The first attempt's dead letter arrives late: it must not fail the new attempt.
    await handleDeadLetter(retry.deps, stale[0], 'late-dead-letter');
    expect((await statusOf(started.jobId)).state).toBe('running');
    // The first attempt's messages arrive again, before and among the new attempt's.
    await retry.queue.send(stale);
    await retry.queue.idle();
    const dropped = new RegExp(`map task \\d+ of attempt ${stale[0]?.attempt} is dropped`);
    expect(retry.log.filter((line) => dropped.test(line))).toHaveLength(stale.length);
    await expectPublishedOnce(retry, 'attempts.txt', genesis, started.jobId);
  });

  it('counts again when the published counts were deleted (no upload, no --force)', async () => {
    const h = harness();
    await put('deleted.txt', genesis);
    const { jobId, output } = await runQueued(h, 'deleted.txt');
    await files.delete(output.counts);
    const again = await runQueued(h, 'deleted.txt');
    expect(again.started.outcome).toBe('queued');
    expect(again.jobId).toBe(jobId);
    expect(await text(output.counts)).toBe(expectedTsv('words', genesis));
    expect((await statusOf(jobId)).state).toBe('succeeded');
  });

  it('records an upload refused when its manifest names a missing key, and nothing else', async () => {
    const h = harness();
    const key = 'input/missing.manifest.json';
    await files.put(key, JSON.stringify({ keys: ['plain.txt', 'not-there.txt'] }));
    const said = await startUpload(
      { store: h.store, bucket: '', start: (request) => startQueuedJob(h.deps, request) },
      { key, version: 'v1' },
    );
    expect(said).toMatch(/^refused: /);
    const jobId = (await latestJobId(files, outputKeys(keyInput(key)).summary)) as string;
    const status = await statusOf(jobId);
    expect(status.state).toBe('refused');
    expect(status.reason).toMatch(/not-there\.txt: no such file/);
    expect(await listed(`jobs/${jobId}/`)).toEqual([statusKey(jobId)]);
  });

  it('publishes the newest version when the input is overwritten mid-job', async () => {
    const h = harness({ visibilityMs: 300, faults: { lose: (m) => m.receiveCount === 1 } });
    await put('race.txt', genesis);
    const old = await startQueuedJob(h.deps, { input: keyInput('race.txt') });
    // Overwritten before any of the old job's tasks ran: its reads find a new version.
    const small = new TextEncoder().encode('the newest version of the text\n');
    await new Promise((r) => setTimeout(r, 20));
    await put('race.txt', small);
    const newest = await startQueuedJob(h.deps, { input: keyInput('race.txt') });
    expect(newest.jobId).not.toBe(old.jobId);
    await h.queue.idle();
    const output = outputKeys(keyInput('race.txt'));
    expect(await text(output.counts)).toBe(expectedTsv('words', small));
    expect(SummarySchema.parse(JSON.parse(await text(output.summary))).jobId).toBe(newest.jobId);
    const stale = await statusOf(old.jobId);
    expect(stale.state).toBe('superseded');
    expect(stale.reason).toMatch(/newer version/);
    expect(await listed(`jobs/${old.jobId}/`)).toEqual([statusKey(old.jobId)]);
  });
});

describe('the watchdog (lost messages, throttles, stalls)', () => {
  it('sends tasks whose messages vanished unprocessed again, and the job completes exactly', async () => {
    const h = harness({
      partitioned: true,
      faults: { vanish: firstMessages((m) => m.index % 2 === 0) },
    });
    await put('vanished.txt', genesis);
    const { jobId } = await runQueued(h, 'vanished.txt');
    expect((await statusOf(jobId)).state).toBe('running');
    const actions = await sweepUntilEnded(h, jobId);
    expect(actions.filter((a) => a === 'resent').length).toBeGreaterThanOrEqual(1);
    await expectPublishedOnce(h, 'vanished.txt', genesis, jobId);
    expect(h.log.some((line) => /task\(s\) were never committed; sent them again/.test(line))).toBe(
      true,
    );
  });

  it('sends a phase whose sender died and whose message then vanished', async () => {
    const h = harness({
      partitioned: true,
      failSendOf: 'reduce',
      faults: { vanish: (m) => m.receiveCount === 2 },
      visibilityMs: 300,
    });
    await put('unsent.txt', genesis);
    const { jobId } = await runQueued(h, 'unsent.txt');
    expect((await statusOf(jobId)).state).toBe('running');
    await sweepUntilEnded(h, jobId);
    await expectPublishedOnce(h, 'unsent.txt', genesis, jobId);
  });

  it('starts the next phase when the task that completed one died before planning it and its message vanished', async () => {
    const h = harness({
      partitioned: true,
      faults: { vanish: (m) => m.receiveCount === 2 },
      visibilityMs: 300,
    });
    h.store.failWrite({ key: /phases\/reduce\.json$/, landed: false });
    await put('unplanned.txt', genesis);
    const { jobId } = await runQueued(h, 'unplanned.txt');
    expect((await statusOf(jobId)).state).toBe('running');
    const actions = await sweepUntilEnded(h, jobId);
    expect(actions).toContain('resent');
    expect(
      h.log.some((line) => /map phase completed but the next step never started/.test(line)),
    ).toBe(true);
    await expectPublishedOnce(h, 'unplanned.txt', genesis, jobId);
  });

  it('does not fail a task that was throttled until dead-lettered: the watchdog sends it again', async () => {
    const h = harness({
      visibilityMs: 150,
      maxReceives: 3,
      // Every receive of map task 1's first message is throttled: received, never run.
      faults: { lose: firstMessages((m) => m.phase === 'map' && m.index === 1) },
    });
    await put('throttled.txt', genesis);
    const { jobId } = await runQueued(h, 'throttled.txt');
    expect(h.queue.deadLetters).toHaveLength(1);
    expect((await statusOf(jobId)).state).toBe('running');
    expect(h.log.some((line) => /map task 1 was dead-lettered after 0 run\(s\)/.test(line))).toBe(
      true,
    );
    await sweepUntilEnded(h, jobId);
    await expectPublishedOnce(h, 'throttled.txt', genesis, jobId);
  });

  it('fails a job whose messages keep vanishing after its resends, saying what was lost', async () => {
    const h = harness({
      faults: { vanish: (m) => (JSON.parse(m.body) as TaskMessage).index === 0 },
    });
    await put('gone.txt', genesis);
    const { jobId, output } = await runQueued(h, 'gone.txt');
    const actions = await sweepUntilEnded(h, jobId, 200);
    expect(actions.filter((a) => a === 'resent')).toHaveLength(3);
    const status = await statusOf(jobId);
    expect(status.state).toBe('failed');
    expect(status.reason).toMatch(
      /^no progress for .* min: 1 of \d+ map task\(s\) were never committed after 3 resend\(s\)/,
    );
    await expect(files.head(output.summary)).rejects.toThrow(/no such/);
    expect(await listed(`jobs/${jobId}/`)).toEqual([statusKey(jobId)]);
    expect(await listed(activeJobKey(jobId))).toEqual([]);
  });
});
