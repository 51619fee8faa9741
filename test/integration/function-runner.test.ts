/** The worker pool against the FunctionRunner contract that Lambda on the emulator meets too. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { FileObjectStore } from '../../lib/adapters/file-store.js';
import { WorkerPoolRunner } from '../../lib/adapters/worker-pool/runner.js';
import { functionRunnerContract } from '../contract/function-runner.js';
import { taskWorkerScript } from '../support/workers.js';

let root: string;
let store: FileObjectStore;
let runner: WorkerPoolRunner;
let n = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'wordcount-runner-'));
  store = new FileObjectStore(root);
  runner = new WorkerPoolRunner({
    size: 2,
    script: taskWorkerScript(),
    workerData: { sourceRoot: root, workRoot: root },
  });
});
afterAll(() => runner.close());

functionRunnerContract('WorkerPoolRunner', () => ({
  runner,
  counter: 'counter',
  store,
  prefix: `run-${n++}`,
}));
