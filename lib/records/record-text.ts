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
import { LINE_FEED, TextBatch } from './text-batch.js';

export type { CountedText } from './text-batch.js';

export class RecordText extends TextBatch {
  private readonly counter: RangeCounter;

  constructor(
    mode: Mode,
    private readonly feeder: Feeder,
  ) {
    super();
    this.counter = new RangeCounter(mode, 0, Number.MAX_SAFE_INTEGER, feeder.counts());
    this.buffer[this.length++] = LINE_FEED;
  }

  // A batch is counted whole, even mid-record: the counter carries a token cut there, so
  // a long record is never held whole.
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
