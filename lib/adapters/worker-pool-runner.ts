/**
 * FunctionRunner over a pool of worker threads: the embedded backend's twin of
 * LambdaRunner. Payloads and results cross the thread boundary as JSON text, exactly
 * what a Lambda invocation carries, so the embedded backend exercises the same
 * contract.
 */
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InvocationError } from '../errors.js';
import type { FunctionRunner } from '../ports.js';

export interface WorkerRequest {
  id: number;
  functionName: string;
  payload: string;
}

export type WorkerReply =
  | { id: number; ok: true; result: string }
  | { id: number; ok: false; error: { name: string; message: string } };

export interface WorkerPoolOptions {
  /** Number of threads; defaults to the number of CPUs. */
  size?: number;
  /** The worker module; defaults to the task worker next to this file. */
  script?: URL;
  /** Given to every worker (e.g. the store root). */
  workerData?: unknown;
}

interface Task {
  request: WorkerRequest;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** The compiled task worker beside this module in dist/. */
export const TASK_WORKER_SCRIPT = new URL('./task-worker.js', import.meta.url);

export class WorkerPoolRunner implements FunctionRunner {
  readonly size: number;
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Task>();
  private readonly queue: Task[] = [];
  private readonly script: URL;
  private readonly workerData: unknown;
  private readonly proven = new WeakSet<Worker>();
  private nextId = 0;
  private closed = false;
  private broken: Error | undefined;

  constructor(options: WorkerPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? cpus().length);
    this.script = options.script ?? TASK_WORKER_SCRIPT;
    this.workerData = options.workerData;
    for (let i = 0; i < this.size; i++) this.idle.push(this.spawn());
  }

  invoke(functionName: string, payload: unknown): Promise<unknown> {
    if (this.closed) {
      return Promise.reject(new InvocationError(functionName, 'worker pool is closed'));
    }
    if (this.broken) return Promise.reject(new InvocationError(functionName, this.broken.message));
    return new Promise((resolve, reject) => {
      const request = { id: this.nextId++, functionName, payload: JSON.stringify(payload) };
      this.queue.push({ request, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = [...this.idle, ...this.busy.keys()];
    this.idle.length = 0;
    for (const [, task] of this.busy) {
      task.reject(new InvocationError(task.request.functionName, 'worker pool closed'));
    }
    this.busy.clear();
    for (const task of this.queue.splice(0)) {
      task.reject(new InvocationError(task.request.functionName, 'worker pool closed'));
    }
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private spawn(): Worker {
    const worker = new Worker(this.script, { workerData: this.workerData });
    worker.unref();
    worker.on('message', (reply: WorkerReply) => this.settle(worker, reply));
    worker.on('error', (error) => this.fail(worker, error));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(worker, new Error(`worker thread exited with code ${code}`));
    });
    return worker;
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.idle.length > 0) {
      const worker = this.idle.pop() as Worker;
      const task = this.queue.shift() as Task;
      this.busy.set(worker, task);
      worker.postMessage(task.request);
    }
  }

  private settle(worker: Worker, reply: WorkerReply): void {
    const task = this.busy.get(worker);
    if (!task || task.request.id !== reply.id) return;
    this.busy.delete(worker);
    this.idle.push(worker);
    this.proven.add(worker);
    // Hand the worker its next task before parsing this result on our thread.
    this.dispatch();
    if (reply.ok) {
      try {
        task.resolve(JSON.parse(reply.result));
      } catch (error) {
        task.reject(
          new InvocationError(task.request.functionName, 'result is not JSON', false, {
            cause: error,
          }),
        );
      }
    } else {
      task.reject(
        new InvocationError(
          task.request.functionName,
          `${reply.error.name}: ${reply.error.message}`,
        ),
      );
    }
  }

  /**
   * A worker that died takes its task down with it. One that had answered before is
   * replaced; one that never answered (it cannot even load) breaks the pool, which then
   * fails every call with that error instead of respawning forever.
   */
  private fail(worker: Worker, error: Error): void {
    const task = this.busy.get(worker);
    const known = task !== undefined || this.idle.includes(worker);
    this.busy.delete(worker);
    const idleAt = this.idle.indexOf(worker);
    if (idleAt >= 0) this.idle.splice(idleAt, 1);
    void worker.terminate();
    if (!known || this.closed) return;
    if (this.proven.has(worker)) {
      task?.reject(
        new InvocationError(task.request.functionName, error.message, true, { cause: error }),
      );
      this.idle.push(this.spawn());
      this.dispatch();
      return;
    }
    this.broken ??= new Error(`worker thread failed to start: ${error.message}`, { cause: error });
    task?.reject(new InvocationError(task.request.functionName, this.broken.message));
    for (const queued of this.queue.splice(0)) {
      queued.reject(new InvocationError(queued.request.functionName, this.broken.message));
    }
  }
}
