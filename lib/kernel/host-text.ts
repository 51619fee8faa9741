/**
 * What the wasm kernel does not count: `--ngram N` (N > 1) and `--doc-freq`. The text
 * arrives as RecordText's does (records' texts, each ended by a line feed; or the lines
 * a text range owns; or a whole text object); complete lines are cut into tokens on the
 * host (line-tokens.ts, the kernel's rules) and a cut line is carried until its end
 * comes, so a line is held whole, nothing more.
 *
 * - n-grams: runs of N consecutive tokens joined by one space. A line is a sentence: an
 *   n-gram never crosses a line's end, nor a record's.
 * - Document frequency: each distinct key of a document counted once more in the task's
 *   second table (doc-keys.ts carries it through the shuffle). A document is a record,
 *   or with `wholeDocument` the stream itself (a text object, read by one task).
 */
import { LINE_FEED, TextBatch } from '../records/text-batch.js';
import type { SegmenterName } from '../segmenter.js';
import type { Mode } from '../tokenize.js';
import { type LineStats, lineTokens } from './line-tokens.js';
import type { Feeder } from './task-counts.js';

/** Tokens of one line counted at once. */
const TOKEN_BATCH = 1 << 14;

export interface HostCounting {
  /** Tokens per key: 1 (tokens) to MAX_NGRAM. */
  n: number;
  /** Count each key's documents too. */
  docFreq: boolean;
}

export class HostText extends TextBatch {
  private bomChecked: boolean;
  /** Tokens of the current line not yet counted: at most a batch, then the last n - 1. */
  private tokens: string[] = [];
  /** Where lineTokens puts a line's tokens: counted a batch at a time, so a long line's are never all held. */
  private readonly sink = {
    push: (token: string) => {
      this.tokens.push(token);
      if (this.tokens.length >= TOKEN_BATCH) this.countTokens(false);
    },
  };
  /** Offsets in the buffer of the line feeds that end a record (a document). */
  private documentEnds: number[] = [];
  /** The current document's distinct keys (with docFreq). */
  private readonly seen = new Set<string>();

  constructor(
    private readonly mode: Mode,
    private readonly counting: HostCounting,
    private readonly feeder: Feeder,
    private readonly segmenter: SegmenterName,
    private readonly options: {
      /** The stream is an object's text from its first byte: a leading BOM is not text. */
      objectStart?: boolean;
      /** The whole stream is one document (a text object), not each record. */
      wholeDocument?: boolean;
    } = {},
  ) {
    super();
    this.bomChecked = !options.objectStart;
  }

  /** A record's end is a line's, and a document's unless the stream is one. */
  protected override recordEnded(at: number): void {
    if (this.counting.docFreq && !this.options.wholeDocument) this.documentEnds.push(at);
  }

  /** Counts the complete lines gathered; a cut line stays for the next batch. */
  flush(): Promise<void> | undefined {
    // (lastIndexOf from -1 would search the whole buffer, stale bytes included.)
    if (this.length === 0) return undefined;
    const last = this.buffer.lastIndexOf(LINE_FEED, this.length - 1);
    if (last < 0) return undefined;
    this.countLines(last + 1);
    return this.feeder.afterPiece();
  }

  /** Counts the rest (a last line without a line feed is a line too) and ends the stream. */
  async finish(): Promise<void> {
    await this.flush();
    if (this.length > 0) this.countLines(this.length);
    if (this.counting.docFreq && this.options.wholeDocument) this.endDocument();
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
    const ends = this.documentEnds;
    let nextEnd = 0;
    while (s < end) {
      let nl = buf.indexOf(LINE_FEED, s);
      if (nl < 0 || nl > end) nl = end;
      this.countLine(buf, s, nl, stats);
      if (ends[nextEnd] === nl) {
        this.endDocument();
        nextEnd++;
      }
      s = nl + 1;
    }
    this.documentEnds = ends.slice(nextEnd).map((at) => at - end);
    counts.invalidSequences += stats.invalidSequences;
    counts.longTokens += stats.longTokens;
    counts.bytesScanned += end;
    buf.copyWithin(0, end, this.length);
    this.length -= end;
  }

  private countLine(buf: Uint8Array, s: number, e: number, stats: LineStats): void {
    this.tokens = [];
    lineTokens(buf, s, e, this.mode, this.segmenter, this.sink, stats);
    this.countTokens(true);
  }

  /**
   * Counts the keys that start in the tokens held; unless the line ended, keeps the last
   * n - 1 tokens, the start of the keys still to come.
   */
  private countTokens(lineEnd: boolean): void {
    const tokens = this.tokens;
    const { n, docFreq } = this.counting;
    this.feeder.counts().table.addGrams(tokens, n);
    // The document's keys as strings: only a set of them tells a key seen before.
    if (docFreq) {
      for (let k = 0; k + n <= tokens.length; k++) {
        this.seen.add(n === 1 ? (tokens[k] as string) : tokens.slice(k, k + n).join(' '));
      }
    }
    this.tokens = lineEnd ? [] : tokens.slice(Math.max(0, tokens.length - (n - 1)));
  }

  /** Counts the document's distinct keys once each in the task's document table. */
  private endDocument(): void {
    const counts = this.feeder.counts();
    counts.raw.addTexts([...this.seen].join('\n'));
    this.seen.clear();
    counts.documents++;
  }
}
