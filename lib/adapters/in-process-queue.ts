/**
 * A task queue in this process, with SQS's delivery semantics: at least once, a message
 * handled by one consumer at a time until it is acknowledged or its visibility timeout
 * passes, to the dead-letter handler once it was received `maxReceives` times. Bodies go
 * through JSON and the 256 KiB limit, as on SQS. Faults can be injected per delivery,
 * so the queue coordination is tested here as it runs on AWS: duplicates, losses,
 * acknowledgements that never arrive.
 */
import { randomUUID } from 'node:crypto';
import { messageOf } from '../errors.js';
import type { Log } from '../log.js';
import type { TaskQueue } from '../ports.js';

/** SQS's largest message body. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  /** Deliveries so far, this one included (SQS's ApproximateReceiveCount). */
  receiveCount: number;
}

export interface QueueFaults {
  /** Sends this message twice (as SQS may): two deliveries, possibly at once. */
  duplicate?(message: QueuedMessage): boolean;
  /** Loses this delivery: never handled, never acknowledged; back after the visibility timeout. */
  lose?(message: QueuedMessage): boolean;
  /** Handles it but loses the acknowledgement (the consumer died after its work). */
  loseAck?(message: QueuedMessage): boolean;
  /**
   * Acknowledges it without handling it: gone for good, as with a consumer that answers
   * without running (`sst dev`'s stand-in while no session runs) or a purged queue.
   */
  vanish?(message: QueuedMessage): boolean;
}

export interface InProcessQueueOptions {
  /** Handles one delivery; a throw leaves the message to come back after the visibility timeout. */
  handle(body: unknown, messageId: string, receiveCount: number): Promise<void>;
  /** Handles a message received `maxReceives` times without an acknowledgement. */
  deadLetter(body: unknown, messageId: string): Promise<void>;
  /** Deliveries handled at once. */
  concurrency: number;
  maxReceives?: number;
  visibilityMs?: number;
  faults?: QueueFaults;
  log?: Log;
}

interface Entry {
  message: QueuedMessage;
  visibleAt: number;
}

export class InProcessQueue implements TaskQueue {
  private readonly entries: Entry[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];
  private failures: Error[] = [];
  readonly maxReceives: number;
  readonly visibilityMs: number;
  /** Deliveries made, for tests: message id → receive counts. */
  readonly deliveries = new Map<string, number>();
  readonly deadLetters: string[] = [];

  constructor(private readonly options: InProcessQueueOptions) {
    this.maxReceives = options.maxReceives ?? 3;
    this.visibilityMs = options.visibilityMs ?? 30_000;
  }

  async send(messages: readonly unknown[], options: { delaySeconds?: number } = {}): Promise<void> {
    const visibleAt = Date.now() + (options.delaySeconds ?? 0) * 1000;
    for (const body of messages) {
      const text = JSON.stringify(body);
      if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES) {
        throw new RangeError(
          `a task message of ${Buffer.byteLength(text)} bytes is over SQS's 256 KiB`,
        );
      }
      const message: QueuedMessage = { messageId: randomUUID(), body: text, receiveCount: 0 };
      this.entries.push({ message, visibleAt });
      if (this.options.faults?.duplicate?.(message)) {
        // Another copy of the same message (same id), as a standard queue may deliver.
        this.entries.push({ message: { ...message }, visibleAt });
      }
    }
    this.pump();
  }

  /** Messages not received yet, or back after their visibility timeout (or held back). */
  async waiting(): Promise<number> {
    return this.entries.filter((e) => e.message.receiveCount === 0 || e.visibleAt <= Date.now())
      .length;
  }

  /** Resolves once every message was acknowledged or dead-lettered and nothing runs. */
  idle(): Promise<void> {
    if (this.entries.length === 0 && this.inFlight === 0) return this.settled();
    return new Promise<void>((resolve) => this.waiters.push(resolve)).then(() => this.settled());
  }

  private settled(): Promise<void> {
    const [failure] = this.failures;
    this.failures = [];
    return failure ? Promise.reject(failure) : Promise.resolve();
  }

  private pump(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const now = Date.now();
    while (this.inFlight < this.options.concurrency) {
      const at = this.entries.findIndex((e) => e.visibleAt <= now);
      if (at < 0) break;
      const entry = this.entries[at] as Entry;
      if (entry.message.receiveCount >= this.maxReceives) {
        this.entries.splice(at, 1);
        this.run(
          () => this.options.deadLetter(JSON.parse(entry.message.body), entry.message.messageId),
          () => {
            this.deadLetters.push(entry.message.messageId);
          },
        );
        continue;
      }
      entry.message.receiveCount++;
      entry.visibleAt = now + this.visibilityMs;
      const { message } = entry;
      this.deliveries.set(message.messageId, (this.deliveries.get(message.messageId) ?? 0) + 1);
      const faults = this.options.faults;
      if (faults?.lose?.(message)) {
        this.options.log?.(`lost delivery ${message.receiveCount} of ${message.messageId}`);
        continue;
      }
      if (faults?.vanish?.(message)) {
        this.options.log?.(`${message.messageId} vanished unhandled`);
        this.remove(entry);
        continue;
      }
      const loseAck = faults?.loseAck?.(message) ?? false;
      this.run(
        () =>
          this.options.handle(JSON.parse(message.body), message.messageId, message.receiveCount),
        () => {
          if (loseAck) this.options.log?.(`lost the acknowledgement of ${message.messageId}`);
          else this.remove(entry);
        },
        (error) =>
          this.options.log?.(
            `delivery ${message.receiveCount} of ${message.messageId} failed: ${messageOf(error)}`,
          ),
      );
    }
    if (this.entries.length === 0 && this.inFlight === 0) {
      for (const resolve of this.waiters.splice(0)) resolve();
      return;
    }
    const next = Math.min(...this.entries.map((e) => e.visibleAt));
    if (Number.isFinite(next) && this.inFlight < this.options.concurrency) {
      this.timer = setTimeout(() => this.pump(), Math.max(1, next - Date.now()));
    }
  }

  private remove(entry: Entry): void {
    const at = this.entries.indexOf(entry);
    if (at >= 0) this.entries.splice(at, 1);
  }

  private run(
    work: () => Promise<void>,
    acknowledged: () => void,
    failed?: (error: unknown) => void,
  ): void {
    this.inFlight++;
    work()
      .then(acknowledged, (error: unknown) => {
        if (failed) failed(error);
        // A dead-letter handler that throws has nobody to retry it: report it from idle().
        else this.failures.push(error instanceof Error ? error : new Error(String(error)));
      })
      .finally(() => {
        this.inFlight--;
        this.pump();
      });
  }

  /** Stops the timer; undelivered messages are dropped. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.entries.length = 0;
  }
}
