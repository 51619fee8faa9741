/**
 * `--ngram N` (N > 1): counts runs of N consecutive tokens of the mode, joined by one
 * space, into the task's table. A line is a sentence: an n-gram never crosses a line's
 * end, nor a record's (each record's text ends with a line feed, as RecordText's does).
 * The bytes arrive as RecordText's do (records' texts, or the lines a text range owns);
 * complete lines are counted, a cut line is carried until its end comes, so a line is
 * held whole (the unit n-grams live in), nothing more.
 */
import type { CountedText } from '../records/record-text.js';
import type { SegmenterName } from '../segmenter.js';
import type { Mode } from '../tokenize.js';
import { type LineStats, lineTokens } from './line-tokens.js';
import type { Feeder } from './task-counts.js';

/** Bytes gathered before complete lines are counted. */
const BATCH_BYTES = 256 * 1024;
const LINE_FEED = 0x0a;
const encoder = new TextEncoder();

export class NgramText implements CountedText {
  private buffer = new Uint8Array(BATCH_BYTES + 4096);
  private length = 0;
  /** Bytes of record text given (separators not included). */
  textBytes = 0;
  private bomChecked: boolean;
  private readonly tokens: string[] = [];
  private key = new Uint8Array(1024);

  constructor(
    private readonly mode: Mode,
    private readonly n: number,
    private readonly feeder: Feeder,
    private readonly segmenter: SegmenterName,
    /** The stream is an object's text from its first byte: a leading BOM is not text. */
    options: { objectStart?: boolean } = {},
  ) {
    this.bomChecked = !options.objectStart;
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

  /** Adds `bytes` to the text; counts the complete lines when the batch is full. */
  append(bytes: Uint8Array): Promise<void> | undefined {
    const room = this.reserve(bytes.length);
    room.bytes.set(bytes, room.at);
    this.advance(bytes.length);
    return this.length >= BATCH_BYTES ? this.flush() : undefined;
  }

  /** Ends the current record (a line's end too). */
  endRecord(): Promise<void> | undefined {
    const room = this.reserve(1);
    room.bytes[room.at] = LINE_FEED;
    this.length++;
    return this.length >= BATCH_BYTES ? this.flush() : undefined;
  }

  /** Counts the complete lines gathered; a cut line stays for the next batch. */
  flush(): Promise<void> | undefined {
    const last = this.buffer.lastIndexOf(LINE_FEED, this.length - 1);
    if (last < 0) return undefined;
    this.countLines(last + 1);
    return this.feeder.afterPiece();
  }

  /** Counts the rest (a last line without a line feed is a line too). */
  async finish(): Promise<void> {
    await this.flush();
    if (this.length > 0) this.countLines(this.length);
  }

  /** Counts the lines of buffer[0, end) and keeps what follows. */
  private countLines(end: number): void {
    const buf = this.buffer;
    let s = 0;
    if (!this.bomChecked) {
      this.bomChecked = true;
      if (end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) s = 3;
    }
    const counts = this.feeder.counts();
    const stats: LineStats = { invalidSequences: 0, longTokens: 0 };
    while (s < end) {
      let nl = buf.indexOf(LINE_FEED, s);
      if (nl < 0 || nl > end) nl = end;
      this.countLine(buf, s, nl, stats);
      s = nl + 1;
    }
    counts.invalidSequences += stats.invalidSequences;
    counts.longTokens += stats.longTokens;
    counts.bytesScanned += end;
    buf.copyWithin(0, end, this.length);
    this.length -= end;
  }

  private countLine(buf: Uint8Array, s: number, e: number, stats: LineStats): void {
    const tokens = this.tokens;
    tokens.length = 0;
    lineTokens(buf, s, e, this.mode, this.segmenter, tokens, stats);
    const table = this.feeder.counts().table;
    const n = this.n;
    for (let k = 0; k + n <= tokens.length; k++) {
      let gram = tokens[k] as string;
      for (let m = 1; m < n; m++) gram += ` ${tokens[k + m]}`;
      // At most 3 UTF-8 bytes per UTF-16 unit.
      if (gram.length * 3 > this.key.length) this.key = new Uint8Array(gram.length * 3);
      const { written } = encoder.encodeInto(gram, this.key);
      table.addKey(this.key.subarray(0, written));
    }
  }
}
