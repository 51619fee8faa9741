/**
 * The world of the queue coordination tests (queue.test.ts, watchdog.test.ts): real
 * files, real worker threads, the in-process queue with SQS's delivery rules and
 * injected faults, the handlers consuming it, and the checks every run ends with.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
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
import { isTerminal } from '../../lib/job/ledger/status.js';
import { handleDeadLetter } from '../../lib/job/queue/ending.js';
import { type StartDeps, startQueuedJob } from '../../lib/job/queue/start.js';
import { handleQueueMessage } from '../../lib/job/queue/task-messages.js';
import { sweep, type WatchdogDeps } from '../../lib/job/watchdog.js';
import { activeJobKey, type InputName, outputKeys, statusKey } from '../../lib/keys.js';
import type { TaskQueue } from '../../lib/ports.js';
import { ObservedStore } from './observed-store.js';
import { expectedTsv } from './oracle.js';
import { taskWorkerScript } from './workers.js';

export let root: string;
export let files: FileObjectStore;
let runner: WorkerPoolRunner;
export let genesis: Uint8Array;

/** Sets the world up for the calling test file: a store root, worker threads, Genesis. */
export function useQueueWorld(): void {
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
}

export const keyInput = (key: string): InputName => ({ kind: 'key', key });

export interface Harness {
  store: ObservedStore;
  queue: InProcessQueue;
  deps: StartDeps;
  sent: TaskMessage[];
  log: string[];
}

export interface HarnessOptions {
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
export function harness(options: HarnessOptions = {}): Harness {
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
    waiting: () => inProcess.waiting(),
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

export async function put(key: string, bytes: Uint8Array | string): Promise<void> {
  await writeFile(join(root, key), bytes);
}

export async function text(key: string): Promise<string> {
  return new TextDecoder().decode(await files.get(key));
}

export async function listed(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of files.list(prefix)) keys.push(info.key);
  return keys.sort();
}

export async function statusOf(jobId: string) {
  return parsePayload(JobStatusSchema, JSON.parse(await text(statusKey(jobId))), 'status');
}

/** Starts a job for `key`, waits until the queue is empty; returns its id and outputs. */
export async function runQueued(h: Harness, key: string) {
  const started = await startQueuedJob(h.deps, { input: keyInput(key) });
  await h.queue.idle();
  const output = outputKeys(keyInput(key));
  return { started, jobId: started.jobId, output };
}

export async function expectPublishedOnce(
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

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The watchdog as the schedule runs it, over the harness's store and queue. */
export function watchdog(h: Harness, stallMs: number): WatchdogDeps {
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
export async function sweepUntilEnded(h: Harness, jobId: string, stallMs = 400) {
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
export async function activeJobOf(key: string): Promise<string> {
  for (const found of await listed('jobs/active/')) {
    const record = ActiveJobSchema.parse(JSON.parse(await text(found)));
    const input = record.request.input;
    if (input.kind === 'key' && input.key === key) return record.jobId;
  }
  throw new Error(`no job of ${key} is recorded active`);
}

/** Task messages seen so far, by phase and index: to single out a task's first message. */
export function firstMessages(predicate: (m: TaskMessage) => boolean) {
  const first = new Map<string, string>();
  return (message: QueuedMessage): boolean => {
    const body = JSON.parse(message.body) as TaskMessage;
    if (!predicate(body)) return false;
    const task = `${body.phase} ${body.index}`;
    if (!first.has(task)) first.set(task, message.messageId);
    return first.get(task) === message.messageId;
  };
}
