/**
 * The world of the rpc coordination tests (orchestrate.test.ts, rpc-watchdog.test.ts):
 * real files, real worker threads, and the orchestrator's and watchdog's deps over them.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { FileObjectStore } from '../../lib/adapters/file-store.js';
import { WorkerPoolRunner } from '../../lib/adapters/worker-pool/runner.js';
import { ActiveJobSchema, type StartRequest } from '../../lib/contracts/requests.js';
import type { OrchestratorDeps } from '../../lib/job/rpc/deps.js';
import { runJobOnce } from '../../lib/job/rpc/rpc-job.js';
import type { WatchdogDeps } from '../../lib/job/watchdog.js';
import { type InputName, outputKeys } from '../../lib/keys.js';
import { expectedTsv as singlePassTsv } from './oracle.js';
import { taskWorkerScript } from './workers.js';

export let root: string;
export let store: FileObjectStore;
export let runner: WorkerPoolRunner;

/** Sets the world up for the calling test file: a store root and worker threads. */
export function useRpcWorld(): void {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'wordcount-orchestrate-'));
    store = new FileObjectStore(root);
    runner = new WorkerPoolRunner({
      size: 2,
      script: taskWorkerScript(),
      workerData: { sourceRoot: root, workRoot: root },
    });
  });
  afterAll(() => runner.close());
}

export function deps(overrides: Partial<OrchestratorDeps> = {}): OrchestratorDeps {
  return {
    store,
    bucket: 'local',
    runner,
    taskFunction: 'counter',
    concurrency: 2,
    defaultChunkSize: 4096,
    ...overrides,
  };
}

export async function listed(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.list(prefix)) keys.push(info.key);
  return keys;
}

export async function text(key: string): Promise<string> {
  return new TextDecoder().decode(await store.get(key));
}

export const expectedTsv = (bytes: Uint8Array) => singlePassTsv('words', bytes);
export const keyInput = (key: string): InputName => ({ kind: 'key', key });
export const summaryKey = (key: string) => outputKeys(keyInput(key)).summary;
export const countsKey = (key: string) => outputKeys(keyInput(key)).counts;

/** The id of the job recorded active for `key`, if one is. */
export async function activeJobOf(key: string): Promise<string | undefined> {
  for (const found of await listed('jobs/active/')) {
    const record = ActiveJobSchema.parse(JSON.parse(await text(found)));
    const input = record.request.input;
    if (input.kind === 'key' && input.key === key) return record.jobId;
  }
  return undefined;
}

/** Polls `check` until it answers something truthy (5 s at most). */
export async function until<T>(check: () => T | Promise<T>): Promise<NonNullable<T>> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The watchdog of the rpc coordination here: it restarts a job by running it again. */
export function watchdogOf(overrides: Partial<OrchestratorDeps> = {}): WatchdogDeps {
  return {
    store,
    stallMs: 1000,
    heartbeatMs: overrides.heartbeatMs,
    restart: (request) => runJobOnce(deps(overrides), request),
  };
}

/** A request for one key, as an S3 notification makes. */
export function run(d: OrchestratorDeps, key: string, options: Omit<StartRequest, 'input'> = {}) {
  return runJobOnce(d, { input: keyInput(key), ...options });
}
