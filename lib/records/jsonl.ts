/**
 * JSON Lines: one JSON value per line, the counted text the string at the record's
 * field (json-field.ts). Lines arrive in pieces of any size; a line cut by a piece's
 * end is carried (a record of 50 MB is one line held whole, nothing more). A blank line
 * is skipped; a line that is not a JSON object with a string at the field is an
 * invalid record, counted and never fatal unless the job is strict.
 *
 * A byte range of an uncompressed object owns the lines whose first byte it holds (the
 * ownership rule of tokens, applied to records): the reader starts one byte before the
 * range to see whether a line starts there, and reads past its end to finish the last
 * line it owns.
 */
import { InvalidRecordError } from '../errors.js';
import type { JsonField } from './json-field.js';
import { releaseLines, type TextSink } from './json-strings.js';
import { type RecordStats, recordInvalid } from './record-stats.js';

const LINE_FEED = 0x0a;

/** Where records' texts go (RecordText, which counts them). */
export interface RecordSink extends TextSink {
  /** Ends the current record (await what it returns). */
  endRecord(): Promise<void> | undefined;
}

export interface JsonlOptions {
  /** What a line holds: a JSON field's string (or, for n-grams of text, the line itself). */
  field: Pick<JsonField, 'read'>;
  text: RecordSink;
  stats: RecordStats;
  /** Fail on the first invalid record (naming it) instead of counting it. */
  strict: boolean;
  /** For messages: the object's URI. */
  uri: string;
}

/** Lines of a byte stream, with the stream offset of each line's first byte. */
export class JsonlReader {
  /** The line cut by the last piece's end, growing (doubling) until its end comes. */
  private carry = new Uint8Array(0);
  private carried = 0;
  /** Stream offset of the next byte pushed. */
  private offset: number;
  /** Offset of the line being carried (or of the next line). */
  private lineStart: number;
  /** Lines starting at or after this offset are not this reader's. */
  private readonly ownedEnd: number;
  /** Whether the reader starts one byte before its range (the range does not start the stream). */
  private readonly whole: boolean;
  private skipping: boolean;
  /** True once a line starting at or after the range's end began: stop reading. */
  done = false;

  constructor(
    private readonly options: JsonlOptions,
    /** Offset of the first byte pushed, and the range owned. */
    range: { from: number; start: number; end: number } = {
      from: 0,
      start: 0,
      end: Number.MAX_SAFE_INTEGER,
    },
  ) {
    this.offset = range.from;
    this.lineStart = range.from;
    this.ownedEnd = range.end;
    this.whole = range.start === 0;
    // Read from the byte before the range: the line the range starts with is its own
    // only if that byte ends a line.
    this.skipping = range.start > 0;
  }

  /** Reads the complete lines of `piece`; await the result. */
  async push(piece: Uint8Array): Promise<void> {
    if (this.done) return;
    const base = this.offset;
    this.offset += piece.length;
    let from = 0;
    if (this.skipping) {
      // The bytes before the first line feed belong to a line that started before the
      // range: not read, not carried. A range with no line feed from its byte before
      // to its last but one owns no line: it is done without reading further.
      const nl = piece.indexOf(LINE_FEED);
      if (nl < 0) {
        if (base + piece.length >= this.ownedEnd) this.done = true;
        return;
      }
      this.skipping = false;
      from = nl + 1;
      this.lineStart = base + from;
      if (this.pastRange(base + from)) return;
    }
    if (this.carried > 0) {
      // Only the carried line's end is looked for in the new piece.
      const nl = piece.indexOf(LINE_FEED);
      this.carryMore(nl < 0 ? piece : piece.subarray(0, nl));
      if (nl < 0) return;
      const line = this.carry.subarray(0, this.carried);
      this.carried = 0;
      await this.line(line, 0, line.length, this.lineStart);
      from = nl + 1;
      if (this.done || this.pastRange(base + from)) return;
    }
    for (;;) {
      const nl = piece.indexOf(LINE_FEED, from);
      if (nl < 0) break;
      await this.line(piece, from, nl, base + from);
      from = nl + 1;
      if (this.done || this.pastRange(base + from)) return;
    }
    this.lineStart = base + from;
    if (from < piece.length) this.carryMore(piece.subarray(from));
  }

  /** The stream ended: a last line without a line feed is a line too. */
  async end(): Promise<void> {
    if (!this.done && this.carried > 0) {
      await this.line(this.carry.subarray(0, this.carried), 0, this.carried, this.lineStart);
      this.carried = 0;
    }
    this.done = true;
    this.carry = new Uint8Array(0);
    releaseLines();
  }

  /** The next line starts at `next`: past the range, the reader is done (nothing more is read). */
  private pastRange(next: number): boolean {
    if (next < this.ownedEnd) return false;
    this.done = true;
    return true;
  }

  private carryMore(bytes: Uint8Array): void {
    if (this.carried + bytes.length > this.carry.length) {
      const grown = new Uint8Array(
        Math.max(2 * this.carry.length, this.carried + bytes.length, 4096),
      );
      grown.set(this.carry.subarray(0, this.carried));
      this.carry = grown;
    }
    this.carry.set(bytes, this.carried);
    this.carried += bytes.length;
  }

  /** The line `bytes[s, e)` (without its line feed), starting at stream offset `at`. */
  private async line(bytes: Uint8Array, s: number, e: number, at: number): Promise<void> {
    if (at >= this.ownedEnd) {
      this.done = true;
      return;
    }
    const { stats, field, text } = this.options;
    stats.lines++;
    const read = field.read(bytes, s, e, text);
    if (read.kind === 'text') {
      stats.records++;
      await text.endRecord();
    } else if (read.kind === 'blank') stats.skippedRecords++;
    else {
      // A range does not know its lines' numbers (the summary works them out): it names
      // the byte the line starts at.
      const where = this.whole ? `line ${stats.lines}` : `the line at byte ${at}`;
      if (this.options.strict) {
        throw new InvalidRecordError(`${this.options.uri}: ${where}: ${read.reason}`);
      }
      recordInvalid(stats, { line: stats.lines, offset: at, reason: read.reason });
    }
  }
}
