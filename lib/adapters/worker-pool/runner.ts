/**
 * FunctionRunner over a pool of worker threads: the embedded backend's twin of
 * LambdaRunner. Requests and results cross the thread boundary as structured clones of
 * what a Lambda invocation carries, checked by the task function's schemas as there.
 *
 * With `inProcess` (the local CLI, whose driver in this process builds every request),
 * the threads also take the driver's own messages: held map tasks, whose counts stay in
 * the thread, and one collect per thread (invokeEach) that hands them back as bytes in a
 * transferred buffer (held-map-phase.ts).
 */
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InvocationError } from '../../errors.js';
import type { FunctionRunner } from '../../ports.js';

export interface WorkerRequest {
  id: number;
  functionName: string;
  payload: unknown;
  /** See WorkerPoolOptions.inProcess. */
  inProcess?: boolean;
}

/** A result as a value (structured clone), or as JSON text. */
export type WorkerReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: true; result: string }
  | { id: number; ok: false; error: { name: string; message: string } };

export interface WorkerPoolOptions {
  /** Number of threads; defaults to the number of CPUs. */
  size?: number;
  /** The worker module; defaults to the task worker next to this file. */
  script?: URL;
  /** Given to every worker (e.g. the store root). */
  workerData?: unknown;
  /** The threads also take the in-process driver's held map tasks and collects (see above). */
  inProcess?: boolean;
}

interface Task {
  request: WorkerRequest;
  /** Only this worker may run it (invokeEach). */
  target?: Worker;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** The compiled task worker beside this module in dist/. */
export const TASK_WORKER_SCRIPT = new URL('./task-worker.js', import.meta.url);

export class WorkerPoolRunner implements FunctionRunner {
  readonly size: number;
  private readonly inProcess: boolean;
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
    this.inProcess = options.inProcess === true;
    for (let i = 0; i < this.size; i++) this.idle.push(this.spawn());
  }

  invoke(functionName: string, payload: unknown): Promise<unknown> {
    const refused = this.refusal(functionName);
    if (refused) return Promise.reject(refused);
    return new Promise((resolve, reject) => {
      const request = { id: this.nextId++, functionName, payload, inProcess: this.inProcess };
      this.queue.push({ request, resolve, reject });
      this.dispatch();
    });
  }

  /** Invokes every worker once, after the tasks queued before; one reply per worker. */
  invokeEach(functionName: string, payload: unknown): Promise<unknown[]> {
    const refused = this.refusal(functionName);
    if (refused) return Promise.reject(refused);
    const workers = [...this.idle, ...this.busy.keys()];
    return Promise.all(
      workers.map(
        (target) =>
          new Promise((resolve, reject) => {
            const request = { id: this.nextId++, functionName, payload, inProcess: this.inProcess };
            this.queue.push({ request, resolve, reject, target });
            this.dispatch();
          }),
      ),
    );
  }

  /** Why no call is taken now (closed, or no worker could start), if so. */
  private refusal(functionName: string): InvocationError | undefined {
    if (this.closed) return new InvocationError(functionName, 'worker pool is closed');
    if (this.broken) return new InvocationError(functionName, this.broken.message);
    return undefined;
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
    let i = 0;
    while (i < this.queue.length && this.idle.length > 0) {
      const task = this.queue[i] as Task;
      const at = task.target ? this.idle.indexOf(task.target) : this.idle.length - 1;
      if (at < 0) {
        i++;
        continue;
      }
      const [worker] = this.idle.splice(at, 1) as [Worker];
      this.queue.splice(i, 1);
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
    if (reply.ok && 'value' in reply) task.resolve(reply.value);
    else if (reply.ok) {
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
    // What only this worker could run dies with it.
    for (const queued of this.queue.filter((t) => t.target === worker)) {
      this.queue.splice(this.queue.indexOf(queued), 1);
      queued.reject(new InvocationError(queued.request.functionName, error.message, true));
    }
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
