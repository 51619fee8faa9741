/**
 * What the scale section shares with its child processes: the queue driver's deps as a
 * deployed counter and orchestrator have them, and a bucket served over IPC, so a child
 * that re-runs one step (the start, the task completing the map phase) holds only what
 * that step holds, as a Lambda does with S3: its peak RSS is the step's own.
 */
import { RequestMeter } from '../../dist/lib/cost/request-meter.js';
import { startUsage } from '../../dist/lib/cost/usage.js';
import { ObjectNotFoundError, PreconditionFailedError, UsageError } from '../../dist/lib/errors.js';
import { INLINE_RESULT_LIMIT_BYTES } from '../../dist/lib/job/phases/map-results.js';
import { runTask } from '../../dist/lib/job/tasks/run-task.js';
import { DEFAULT_CHUNK_SIZE } from '../../dist/lib/plan.js';
import { COUNTER } from '../../dist/lib/topology.js';

/** A lease period longer than any simulated step: real timers never renew one in simulated time. */
const HEARTBEAT_MS = 24 * 3600 * 1000;

/**
 * The driver's deps (StartDeps, a superset of QueueDeps): the orchestrator's defaults
 * (lib/job/orchestrator.ts) and the counter's task runner, in this process.
 */
export function driverDeps({ store, queue, counters, now, meter = new RequestMeter() }) {
  return {
    store,
    queue,
    runTask: (request) => runTask({ source: store, work: store }, request),
    heartbeatMs: HEARTBEAT_MS,
    ...(now && { now }),
    measure: () => startUsage(meter, COUNTER.memoryMb),
    concurrency: counters,
    defaultChunkSize: DEFAULT_CHUNK_SIZE,
    inlineLimitBytes: INLINE_RESULT_LIMIT_BYTES,
  };
}

/** Answers a child's store requests from `store` (a SimulatedS3) and counts its sends in `sqs`. */
export function serveStore(child, store, sqs) {
  const ops = {
    head: (key) => store.head(key),
    listPage: (prefix, after) => store.listPage(prefix, after),
    range: (key, options) => store.range(key, options),
    getVersion: (key) => store.getVersion(key),
    put: (key, bytes, options, streamed) => store.put(key, streamed ? [bytes] : bytes, options),
    copy: (from, to, options) => store.copy(from, to, options),
    delete: (key, options) => store.delete(key, options),
    deleteMany: (keys) => store.deleteMany(keys),
    send: (batches) => {
      sqs.SendMessageBatch += batches;
    },
  };
  child.on('message', async (m) => {
    if (m.id === undefined) return;
    try {
      child.send({ id: m.id, ok: true, value: await ops[m.op](...m.args) });
    } catch (error) {
      const { name, message, uri } = error;
      child.send({ id: m.id, ok: false, error: { name, message, uri } });
    }
  });
}

function rebuilt({ name, message, uri }) {
  const error =
    name === 'ObjectNotFoundError'
      ? new ObjectNotFoundError(uri)
      : name === 'PreconditionFailedError'
        ? new PreconditionFailedError(message)
        : name === 'UsageError'
          ? new UsageError(message)
          : Object.assign(new Error(message), { name });
  error.message = message;
  return error;
}

/** The ObjectStore port in a child: every request answered by the parent's serveStore. */
export class RemoteStore {
  #calls = new Map();
  #next = 0;

  constructor(bucketName, meter) {
    this.bucketName = bucketName;
    this.meter = meter;
    process.on('message', (m) => {
      const call = this.#calls.get(m.id);
      if (!call) return;
      this.#calls.delete(m.id);
      if (m.ok) call.resolve(m.value);
      else call.reject(rebuilt(m.error));
    });
  }

  call(op, ...args) {
    this.meter?.add(`s3:${op}`);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve, reject });
      process.send({ id, op, args });
    });
  }

  uri(key) {
    return `s3://${this.bucketName}/${key}`;
  }

  head(key) {
    return this.call('head', key);
  }

  async *list(prefix, options = {}) {
    let after = options.startAfter;
    for (;;) {
      const { infos, truncated } = await this.call('listPage', prefix, after);
      yield* infos;
      if (!truncated) return;
      after = infos[infos.length - 1].key;
    }
  }

  async *readRange(key, { start, end, ifMatch, pieceSize }) {
    const bytes = await this.call('range', key, { start, end, ifMatch });
    const piece = Math.max(1, pieceSize ?? bytes.length);
    for (let at = 0; at < bytes.length; at += piece) yield bytes.subarray(at, at + piece);
  }

  async get(key) {
    return (await this.getVersion(key)).body;
  }

  getVersion(key) {
    return this.call('getVersion', key);
  }

  async put(key, body, options = {}) {
    const direct = typeof body === 'string' || body instanceof Uint8Array;
    if (!direct && (options.ifNoneMatch || options.ifMatch !== undefined)) {
      throw new UsageError(`conditional put of ${this.uri(key)} needs a string or byte body`);
    }
    let bytes = body;
    if (!direct) {
      const parts = [];
      for await (const p of body) parts.push(typeof p === 'string' ? Buffer.from(p) : p);
      bytes = Buffer.concat(parts);
    }
    return this.call('put', key, bytes, options, !direct);
  }

  copy(from, to, options = {}) {
    return this.call('copy', from, to, options);
  }

  delete(key, options = {}) {
    return this.call('delete', key, options);
  }

  deleteMany(keys) {
    return this.call('deleteMany', keys);
  }
}
