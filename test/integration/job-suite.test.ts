/**
 * The job suite (test/contract/job-suite.ts) on the embedded backend, under each
 * coordination: real files, real worker threads; RPC driven by runJobOnce, queue by the
 * in-process queue with SQS's delivery rules.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { FileObjectStore } from '../../lib/adapters/file-store.js';
import { InProcessQueue } from '../../lib/adapters/in-process-queue.js';
import { WorkerPoolRunner } from '../../lib/adapters/worker-pool/runner.js';
import type { StartRequest } from '../../lib/contracts/requests.js';
import { messageOf } from '../../lib/errors.js';
import { handleDeadLetter } from '../../lib/job/queue/ending.js';
import { type StartDeps, startQueuedJob } from '../../lib/job/queue/start.js';
import { handleQueueMessage } from '../../lib/job/queue/task-messages.js';
import type { OrchestratorDeps } from '../../lib/job/rpc/deps.js';
import { runJobOnce } from '../../lib/job/rpc/rpc-job.js';
import type { FunctionRunner } from '../../lib/ports.js';
import { type Corpora, formatSuite } from '../contract/format-suite.js';
import { type Ended, type JobWorld, jobSuite } from '../contract/job-suite.js';
import { writeCorpora } from '../support/corpora.js';
import { endedOf, jobRecordsOf, sampleText, whenRunning } from '../support/job-world.js';
import { taskWorkerScript } from '../support/workers.js';

let files: FileObjectStore;
let runner: WorkerPoolRunner;
let genesis: string;

beforeAll(async () => {
  const root = await mkdtemp(join(tmpdir(), 'wordcount-suite-'));
  files = new FileObjectStore(root);
  runner = new WorkerPoolRunner({
    size: 2,
    script: taskWorkerScript(),
    workerData: { sourceRoot: root, workRoot: root },
  });
  genesis = await sampleText();
});
afterAll(() => runner.close());

let corpora: Corpora;
beforeAll(async () => {
  corpora = await writeCorpora(await mkdtemp(join(tmpdir(), 'wordcount-corpora-')));
}, 180_000);

const put = (key: string, body: Uint8Array | string, metadata?: Record<string, string>) =>
  files.put(key, body, { metadata }).then(() => undefined);

/** Runs `start` to its end, calling `whileRunning` once its job is recorded running. */
async function counted(
  request: StartRequest,
  start: () => Promise<unknown>,
  whileRunning?: () => Promise<void>,
): Promise<Ended> {
  let finished = false;
  const during = whileRunning && whenRunning(files, request, () => finished, whileRunning);
  let error: string | undefined;
  try {
    await start();
  } catch (e) {
    error = messageOf(e);
  } finally {
    finished = true;
  }
  await during;
  return endedOf(files, request, error);
}

function rpcDeps(taskRunner: FunctionRunner = runner): OrchestratorDeps {
  return {
    store: files,
    bucket: 'local',
    runner: taskRunner,
    taskFunction: 'counter',
    concurrency: 2,
    defaultChunkSize: 64 * 1024,
    heartbeatMs: 1000,
  };
}

const rpcWorld: JobWorld = {
  prefix: `rpc-${randomUUID().slice(0, 6)}/`,
  put,
  jobRecords: (summaryKey) => jobRecordsOf(files, summaryKey),
  count: (request, whileRunning) =>
    counted(request, () => runJobOnce(rpcDeps(), request), whileRunning),
  countWithFailingTask: (request) => {
    // A counter that refuses every task: invoked again twice by the runner, then the job fails.
    const refusing: FunctionRunner = {
      invoke: async (_name, payload) => {
        throw new Error(`counter refuses ${(payload as { type?: string }).type} task`);
      },
      close: async () => undefined,
    };
    return counted(request, () => runJobOnce(rpcDeps(refusing), request));
  },
};

/** A queue of this world: its handlers run the real driver over the worker pool. */
function queueWorld(): JobWorld & { failing: boolean } {
  const world = {
    prefix: `queue-${randomUUID().slice(0, 6)}/`,
    failing: false,
    put,
    jobRecords: (summaryKey: string) => jobRecordsOf(files, summaryKey),
    count: async (request: StartRequest, whileRunning?: () => Promise<void>) => {
      const { deps, queue } = harness(false);
      try {
        return await counted(
          request,
          async () => {
            await startQueuedJob(deps, request);
            await queue.idle();
          },
          whileRunning,
        );
      } finally {
        queue.close();
      }
    },
    countWithFailingTask: async (request: StartRequest) => {
      const { deps, queue } = harness(true);
      try {
        return await counted(request, async () => {
          await startQueuedJob(deps, request);
          await queue.idle();
        });
      } finally {
        queue.close();
      }
    },
  };
  return world;
}

function harness(failing: boolean): { deps: StartDeps; queue: InProcessQueue } {
  const deps: StartDeps = {
    store: files,
    queue: { send: (messages, options) => queue.send(messages, options) },
    runTask: async (request) => {
      if (failing) throw new Error(`the counter ran out of memory on ${request.type} task`);
      return runner.invoke('counter', request);
    },
    heartbeatMs: 1000,
    concurrency: 2,
    defaultChunkSize: 64 * 1024,
    inlineLimitBytes: 1 << 20,
  };
  const queue: InProcessQueue = new InProcessQueue({
    handle: (body, id, receives) => handleQueueMessage(deps, body, id, receives),
    deadLetter: (body, id) => handleDeadLetter(deps, body, id),
    concurrency: 2,
    maxReceives: 3,
    visibilityMs: failing ? 150 : 5000,
  });
  return { deps, queue };
}

jobSuite(
  'rpc × embedded',
  () => rpcWorld,
  () => genesis,
);
const queued = queueWorld();
jobSuite(
  'queue × embedded',
  () => queued,
  () => genesis,
);
formatSuite(
  'rpc × embedded',
  () => rpcWorld,
  () => corpora,
);
formatSuite(
  'queue × embedded',
  () => queued,
  () => corpora,
);
