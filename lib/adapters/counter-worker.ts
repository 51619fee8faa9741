/** Worker-thread entry of the embedded backend: the counter function over local files. */
import { parentPort, workerData } from 'node:worker_threads';
import { CountRequestSchema, parsePayload } from '../contracts.js';
import { countRange } from '../count-range.js';
import { FileObjectStore } from './file-store.js';
import type { WorkerReply, WorkerRequest } from './worker-pool-runner.js';

const { storeRoot } = workerData as { storeRoot: string };
const store = new FileObjectStore(storeRoot);

const functions: Record<string, (payload: unknown) => Promise<unknown>> = {
  counter: (payload) =>
    countRange(store, parsePayload(CountRequestSchema, payload, 'count request')),
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
