/**
 * Worker-thread entry of the embedded backend: the task function over local files.
 * It loads the map task and the kernel only; reduce and finalize tasks (and the
 * request schemas they are checked with) load on first use. A map task's inline counts
 * go back as bytes in a transferred buffer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { CollectRequest, MapRequest, TaskRequest } from '../contracts.js';
import { RequestMeter } from '../cost/request-meter.js';
import { startUsage } from '../cost/usage.js';
import { collectHeld, heldTable } from '../job/held-counts.js';
import { runMapTask } from '../job/map-task.js';
import { FileObjectStore } from './file-store.js';
import type { WorkerReply, WorkerRequest } from './worker-pool-runner.js';

const { sourceRoot, workRoot } = workerData as { sourceRoot: string; workRoot: string };
// What this thread's tasks read and write, counted as the S3 requests they stand for.
const meter = new RequestMeter();
const stores = {
  source: new FileObjectStore(sourceRoot, { meter }),
  work: new FileObjectStore(workRoot, { meter }),
};

async function counter(payload: unknown, binary: boolean): Promise<unknown> {
  // With `binary` the driver on the other side of this thread built the request: a map
  // request goes straight to the kernel. Anything else is checked by the task function.
  const type = (payload as TaskRequest | CollectRequest).type;
  if (binary && type === 'collect') return collectHeld(stores.work, payload as CollectRequest);
  // A thread has no configured memory: its tasks report time and requests, no GB-seconds.
  const usage = startUsage(meter, 0);
  if (binary && type === 'map') {
    const request = payload as MapRequest;
    const held = request.hold === undefined ? undefined : heldTable(request.hold);
    return { ...(await runMapTask(stores, request, { binary: true, held })), usage: usage() };
  }
  const { runTask } = await import('../job/task.js');
  return runTask(stores, payload, usage);
}

const functions: Record<string, (payload: unknown, binary: boolean) => Promise<unknown>> = {
  counter,
};

parentPort?.on('message', async (request: WorkerRequest) => {
  let reply: WorkerReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const fn = functions[request.functionName];
    if (!fn) throw new Error(`no function named '${request.functionName}' in the worker pool`);
    const value = await fn(request.payload, request.binary === true);
    const lines = (value as { lines?: Uint8Array }).lines;
    if (lines) transfer.push(lines.buffer as ArrayBuffer);
    reply = { id: request.id, ok: true, value };
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    reply = { id: request.id, ok: false, error: { name, message } };
  }
  parentPort?.postMessage(reply, transfer);
});
