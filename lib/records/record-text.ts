/**
 * The counted text of a stream of records: each record's text, then a line feed, fed to
 * one range counter in batches. A line feed separates tokens in both modes, so counting
 * the records this way counts each record on its own, as the oracle does, at the cost of
 * one counter for the whole stream. The stream starts with a line feed too, so no
 * record's leading U+FEFF is taken for a file's byte-order mark.
 */
import { RangeCounter } from '../kernel/range-counter.js';
import type { Feeder } from '../kernel/task-counts.js';
import type { Mode } from '../tokenize.js';
import type { RecordSink } from './jsonl.js';

/** Where the formats' readers put records' texts: counted as tokens (this) or n-grams. */
export interface CountedText extends RecordSink {
  /** Bytes of record text given (separators not included). */
  textBytes: number;
  /** Adds bytes to the current record's text (await what it returns). */
  append(bytes: Uint8Array): Promise<void> | undefined;
  /** Counts the rest and ends the stream. */
  finish(): Promise<void>;
}

/** Bytes of text gathered before they are counted. */
const BATCH_BYTES = 256 * 1024;
const LINE_FEED = 0x0a;

export class RecordText implements CountedText {
  private buffer = new Uint8Array(BATCH_BYTES + 4096);
  private length = 0;
  private readonly counter: RangeCounter;
  /** Bytes of record text counted (separators not included). */
  textBytes = 0;

  constructor(
    mode: Mode,
    private readonly feeder: Feeder,
  ) {
    this.counter = new RangeCounter(mode, 0, Number.MAX_SAFE_INTEGER, feeder.counts());
    this.buffer[this.length++] = LINE_FEED;
  }

  reserve(n: number): { bytes: Uint8Array; at: number } {
    if (this.length + n > this.buffer.length) {
      const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + n + 1));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    return { bytes: this.buffer, at: this.length };
  }

  advance(n: number): void {
    this.length += n;
    this.textBytes += n;
  }

  /**
   * Adds `bytes` as (part of) the current record's text; counts the batch when it is
   * full, even mid-record (the counter carries a token cut there), so a long record is
   * never held whole (await what it returns).
   */
  append(bytes: Uint8Array): Promise<void> | undefined {
    const room = this.reserve(bytes.length);
    room.bytes.set(bytes, room.at);
    this.advance(bytes.length);
    return this.length >= BATCH_BYTES ? this.flush() : undefined;
  }

  /** Ends the current record; counts the batch when it is full (await what it returns). */
  endRecord(): Promise<void> | undefined {
    const room = this.reserve(1);
    room.bytes[room.at] = LINE_FEED;
    this.length++;
    return this.length >= BATCH_BYTES ? this.flush() : undefined;
  }

  /** Counts what was gathered. */
  flush(): Promise<void> | undefined {
    if (this.length === 0) return undefined;
    this.counter.retarget(this.feeder.counts());
    this.counter.feed(this.buffer.subarray(0, this.length));
    this.length = 0;
    return this.feeder.afterPiece();
  }

  /** Counts the rest and ends the stream. */
  async finish(): Promise<void> {
    await this.flush();
    this.counter.retarget(this.feeder.counts());
    this.counter.endInput();
  }
}
