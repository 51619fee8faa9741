/**
 * Worker-thread entry of the embedded backend: the task function over local files.
 * It loads the map task and the kernel only; reduce and finalize tasks (and the
 * request schemas they are checked with) load on first use. Held map tasks and
 * collects (held-counts.ts) come only from the driver in this process; a collect's
 * inline counts go back as bytes in a transferred buffer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RequestMeter } from '../../cost/request-meter.js';
import { startUsage } from '../../cost/usage.js';
import { FileObjectStore } from '../file-store.js';
import { type CollectRequest, collectHeld, countHeld, type HoldRequest } from './held-counts.js';
import type { WorkerReply, WorkerRequest } from './runner.js';

const { sourceRoot, workRoot } = workerData as { sourceRoot: string; workRoot: string };
// What this thread's tasks read and write, counted as the S3 requests they stand for.
const meter = new RequestMeter();
const stores = {
  source: new FileObjectStore(sourceRoot, { meter }),
  work: new FileObjectStore(workRoot, { meter }),
};

async function counter(payload: unknown, inProcess: boolean): Promise<unknown> {
  // Held tasks and collects are the in-process driver's own messages; anything else is
  // checked by the task function, as a Lambda checks what it is sent.
  const type = (payload as { type?: string }).type;
  if (inProcess && type === 'collect') return collectHeld(stores.work, payload as CollectRequest);
  // A thread has no configured memory: its tasks report time and requests, no GB-seconds.
  const usage = startUsage(meter, 0);
  if (inProcess && type === 'hold') {
    return { ...(await countHeld(stores, payload as HoldRequest)), usage: usage() };
  }
  const { runTask } = await import('../../job/tasks/run-task.js');
  return runTask(stores, payload, usage);
}

const functions: Record<string, (payload: unknown, inProcess: boolean) => Promise<unknown>> = {
  counter,
};

parentPort?.on('message', async (request: WorkerRequest) => {
  let reply: WorkerReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const fn = functions[request.functionName];
    if (!fn) throw new Error(`no function named '${request.functionName}' in the worker pool`);
    const value = await fn(request.payload, request.inProcess === true);
    const lines = (value as { lines?: Uint8Array }).lines;
    if (lines) transfer.push(lines.buffer as ArrayBuffer);
    reply = { id: request.id, ok: true, value };
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    reply = { id: request.id, ok: false, error: { name, message } };
  }
  parentPort?.postMessage(reply, transfer);
});
