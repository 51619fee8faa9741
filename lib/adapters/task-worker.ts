/** Worker-thread entry of the embedded backend: the task function over local files. */
import { parentPort, workerData } from 'node:worker_threads';
import { runTask } from '../job/task.js';
import { FileObjectStore } from './file-store.js';
import type { WorkerReply, WorkerRequest } from './worker-pool-runner.js';

const { sourceRoot, workRoot } = workerData as { sourceRoot: string; workRoot: string };
const stores = { source: new FileObjectStore(sourceRoot), work: new FileObjectStore(workRoot) };

const functions: Record<string, (payload: unknown) => Promise<unknown>> = {
  counter: (payload) => runTask(stores, payload),
};

parentPort?.on('message', async (request: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    const fn = functions[request.functionName];
    if (!fn) throw new Error(`no function named '${request.functionName}' in the worker pool`);
    const result = await fn(JSON.parse(request.payload));
    reply = { id: request.id, ok: true, result: JSON.stringify(result) };
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    reply = { id: request.id, ok: false, error: { name, message } };
  }
  parentPort?.postMessage(reply);
});
