/**
 * Records' texts gathered into batches before they are counted: what the formats'
 * readers write into (a JSON string unescaped in place, a Parquet value, a WARC body).
 * Each record's text is followed by a line feed. Subclasses count a batch: RecordText
 * with the kernel, HostText (lib/kernel/host-text.ts) on the host.
 */
import type { RecordSink } from './jsonl.js';

/** Where the formats' readers put records' texts. */
export interface CountedText extends RecordSink {
  /** Bytes of record text given (separators not included). */
  textBytes: number;
  /** Adds bytes to the current record's text (await what it returns). */
  append(bytes: Uint8Array): Promise<void> | undefined;
  /** Counts the rest and ends the stream. */
  finish(): Promise<void>;
}

/** Bytes of text gathered before they are counted. */
export const BATCH_BYTES = 256 * 1024;
export const LINE_FEED = 0x0a;

export abstract class TextBatch implements CountedText {
  protected buffer = new Uint8Array(BATCH_BYTES + 4096);
  protected length = 0;
  /** Bytes of record text given (separators not included). */
  textBytes = 0;

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
   * full, even mid-record (await what it returns).
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
    this.recordEnded(this.length);
    this.length++;
    return this.length >= BATCH_BYTES ? this.flush() : undefined;
  }

  /** A record ended with the line feed at `at` in the buffer. */
  protected recordEnded(_at: number): void {}

  /** Counts what was gathered (as much of it as can be counted yet). */
  abstract flush(): Promise<void> | undefined;

  abstract finish(): Promise<void>;
}
