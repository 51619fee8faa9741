/**
 * The scale section's task queue: SQS as the queue coordination uses it, on the
 * simulated clock. Sends go in the SQS adapter's batches (packBatches), 16 at a time,
 * each taking its latency; `counters` handlers run at once (the event source mapping's
 * maximum concurrency, one message per invocation as deployed); a handler that throws
 * leaves its message to come back after the visibility timeout, and a message received
 * `maxReceives` times goes to the dead-letter handler. Requests are counted as AWS
 * would bill them: a SendMessageBatch per batch, a ReceiveMessage and a DeleteMessage
 * per message handled (the pollers' empty receives are not modelled). One message can
 * be held back (`hold`) until `release()`: the task that completes the map phase, run
 * alone so that its step can be measured.
 */
import { packBatches } from '../../dist/lib/adapters/sqs-queue.js';
import { mapLimit } from '../../dist/lib/concurrency.js';
import { messageOf } from '../../dist/lib/errors.js';

export const SQS_TYPES = ['SendMessageBatch', 'ReceiveMessage', 'DeleteMessage'];
const SEND_CONCURRENCY = 16;

export class SimulatedSqs {
  /**
   * @param options `{ clock, latency, counters, visibilityMs, maxReceives, handle(body, id,
   *   receives), deadLetter(body, id), hold?(body, id), log? }`
   */
  constructor(options) {
    this.options = options;
    this.counts = Object.fromEntries(SQS_TYPES.map((t) => [t, 0]));
    this.handled = 0;
    this.failures = 0;
    this.ready = [];
    this.head = 0;
    this.busy = 0;
    this.timers = 0;
    this.held = [];
    this.waiters = [];
    this.nextId = 0;
  }

  async send(messages, options = {}) {
    const batches = packBatches(messages.map((m) => JSON.stringify(m)));
    const delayMs = Math.min(900, Math.max(0, Math.ceil(options.delaySeconds ?? 0))) * 1000;
    await mapLimit(batches, SEND_CONCURRENCY, async (batch) => {
      this.counts.SendMessageBatch++;
      await this.options.clock.sleep(this.options.latency());
      for (const body of batch)
        this.#enqueue({ id: `m-${this.nextId++}`, body, receives: 0 }, delayMs);
    });
  }

  async waiting() {
    return this.ready.length - this.head + this.timers;
  }

  /** Resolves when nothing waits, runs or is due back (held messages aside). */
  idle() {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.#checkIdle();
    });
  }

  /** Queues the held messages; how many. */
  release() {
    const held = this.held.splice(0);
    for (const message of held) this.ready.push(message);
    this.#pump();
    return held.length;
  }

  #enqueue(message, delayMs) {
    if (message.receives === 0 && this.options.hold?.(JSON.parse(message.body), message.id)) {
      this.held.push(message);
      return;
    }
    if (delayMs > 0) this.#later(message, delayMs);
    else {
      this.ready.push(message);
      this.#pump();
    }
  }

  #later(message, delayMs) {
    this.timers++;
    this.options.clock.sleep(delayMs).then(() => {
      this.timers--;
      this.ready.push(message);
      this.#pump();
    });
  }

  #pump() {
    while (this.busy < this.options.counters && this.head < this.ready.length) {
      const message = this.ready[this.head++];
      this.busy++;
      this.#deliver(message).finally(() => {
        this.busy--;
        this.#pump();
      });
    }
    if (this.head > 4096 && this.head * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.head);
      this.head = 0;
    }
    this.#checkIdle();
  }

  async #deliver(message) {
    const { clock, visibilityMs, maxReceives } = this.options;
    this.counts.ReceiveMessage++;
    const body = JSON.parse(message.body);
    if (message.receives >= maxReceives) {
      // Redriven: the dead-letter function receives it and handles it once.
      this.counts.ReceiveMessage++;
      this.counts.DeleteMessage++;
      await this.options.deadLetter(body, message.id).catch((error) => {
        this.options.log?.(
          `scale: the dead letter of ${body.phase} task ${body.index} failed: ${messageOf(error)}`,
        );
      });
      return;
    }
    message.receives++;
    const received = clock.ms;
    try {
      await this.options.handle(body, message.id, message.receives);
      this.handled++;
      this.counts.DeleteMessage++;
    } catch (error) {
      if (this.failures++ < 5) {
        this.options.log?.(
          `scale: delivery ${message.receives} of ${body.phase} task ${body.index} failed: ${messageOf(error)}`,
        );
      }
      this.#later(message, Math.max(0, visibilityMs - (clock.ms - received)));
    }
  }

  #checkIdle() {
    if (this.busy > 0 || this.head < this.ready.length || this.timers > 0) return;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
