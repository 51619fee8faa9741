/**
 * The range protocol: counts the tokens that start in one byte range, whatever the mode.
 * Bytes arrive in pieces of any size, so the same code counts a local file, an S3
 * stream or a test buffer; the mode's scanner (lib/kernel/scanners.ts, compiled to
 * wasm) does the counting, this file everything between pieces, once for both modes.
 *
 * Ownership rule: a token belongs to the range that holds its first byte. The caller
 * feeds bytes from `readStartFor(start)` (a few bytes before the range, to see whether
 * the range starts inside a token or inside a multi-byte character) and keeps feeding
 * past `end` until `done` turns true, which happens once the last owned token is
 * finished. A token cut by the end of a piece is carried into the next; one longer
 * than the cap is followed without its bytes and counted under its capped prefix.
 */

import { DEFAULT_SEGMENTER, type SegmenterName } from '../segmenter.js';
import type { Mode } from '../tokenize.js';
import { isContinuationByte } from '../utf8.js';
import { capPrefix, TOKEN_CAP_BYTES } from './long-tokens.js';
import { SCANNERS, type Scanner, type ScanWindow } from './scanners.js';
import { segmentRunAt } from './segment-runs.js';
import { TaskCounts } from './task-counts.js';
import { DONE, END, KEEP, type Kernel, LONG, RUN, SUSPEND, TOKEN_END } from './wasm-kernel.js';

/** Bytes read before a range: 3 to resynchronise UTF-8, then two whole characters. */
export const LOOKBACK_BYTES = 16;
const PRELUDE_BYTES = LOOKBACK_BYTES + 8;
/** Pieces bigger than this are scanned in parts (the kernel's input region). */
const MAX_PART = 256 * 1024;
const I32_MAX = 0x7fffffff;

// Protocol states between pieces.
const OUT = 0;
const LONG_TOKEN = 1;
const IN_RUN = 2;

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** Where a counter for a range starting at `start` must begin reading. */
export function readStartFor(start: number): number {
  return Math.max(0, start - LOOKBACK_BYTES);
}

/** What one range contributes to a job. */
export interface RangeCounts {
  /** `word\tcount\n` lines; the same word may appear on more than one line. */
  entries: string;
  /** Tokens counted (the sum of the counts in `entries`). */
  tokens: number;
  /** Ill-formed UTF-8 sequences starting in the range, each decoded as U+FFFD. */
  invalidSequences: number;
  /** Tokens longer than TOKEN_CAP_BYTES, counted under a truncated key. */
  longTokens: number;
  /** Bytes fed to the counter, look-behind and overrun included. */
  bytesScanned: number;
}

/** An offset relative to a buffer, clamped to the i32 the kernel takes. */
function rel(offset: number): number {
  return Math.max(-I32_MAX, Math.min(I32_MAX, offset));
}

/** Counts the tokens of one byte range; see the module comment for the protocol. */
export class RangeCounter {
  /** True once every token owned by the range has been counted: stop feeding. */
  done = false;
  /** Where the counts go: the range's own, or a task's shared by several ranges. */
  counts: TaskCounts;

  private readonly scanner: Scanner;
  private invalidMark = 0;
  private started = false;
  private next: number;
  private carry: Uint8Array | null = null;
  private carryBase = 0;
  private state = OUT;
  private owned = false;
  private longPrefix: Uint8Array | null = null;

  constructor(
    readonly mode: Mode,
    readonly start: number,
    readonly end: number,
    counts?: TaskCounts,
  ) {
    this.scanner = SCANNERS[mode];
    this.next = readStartFor(start);
    if (end <= start) this.done = true;
    this.counts = counts ?? new TaskCounts(end - start);
  }

  /** Sends the counts of the pieces after this call elsewhere (a task spilled its table). */
  retarget(counts: TaskCounts): void {
    this.counts = counts;
  }

  /** Feeds the next bytes; the first piece starts at `readStartFor(start)`. */
  feed(piece: Uint8Array): void {
    if (this.done) return;
    this.counts.bytesScanned += piece.length;
    for (let o = 0; o < piece.length && !this.done; o += MAX_PART) {
      const part = piece.subarray(o, o + MAX_PART);
      const base = this.carry !== null ? this.carryBase : this.next;
      const parts = this.carry !== null ? [this.carry, part] : [part];
      this.carry = null;
      this.next += part.length;
      this.scan(parts, base, false);
    }
  }

  /** Ends the input (end of object or enough read): counts the last token, if any. */
  endInput(): void {
    if (this.done) return;
    const base = this.carry !== null ? this.carryBase : this.next;
    const parts = this.carry !== null ? [this.carry] : [];
    this.carry = null;
    this.scan(parts, base, true);
    this.done = true;
  }

  /** Ends the input and returns the counts (of this range alone, unless they are shared). */
  finish(): RangeCounts {
    this.endInput();
    const { counts } = this;
    return {
      entries: decoder.decode(counts.lines()),
      tokens: counts.tokens(),
      invalidSequences: counts.invalidSequences,
      longTokens: counts.longTokens,
      bytesScanned: counts.bytesScanned,
    };
  }

  /** Scans `parts`, which start at `base` of the object, loaded into the kernel's input. */
  private scan(parts: readonly Uint8Array[], base: number, final: boolean): void {
    const kernel = this.counts.kernel;
    const at = kernel.load(parts);
    let n = 0;
    for (const p of parts) n += p.length;
    const buf = () => kernel.bytes().subarray(at, at + n);
    let from = 0;
    if (!this.started) {
      if (n < PRELUDE_BYTES && !final) {
        this.keep(buf(), 0, base);
        return;
      }
      this.started = true;
      const b = buf();
      if (base === 0 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) from = 3;
      else if (base > 0) {
        // Bytes before the first lead or ASCII byte may belong to a character that
        // starts before what we read; the characters after it decode the same as in a
        // single pass over the whole object.
        while (from < n && base + from < this.start && isContinuationByte(b[from] as number))
          from++;
        // Nothing but continuation bytes before the range: the last of them is a lone,
        // invalid unit (no lead is within reach), and scanning from it tells whether
        // the range starts inside a token.
        if (base + from === this.start && from > 0) from--;
      }
    }
    const w: ScanWindow = {
      from,
      n,
      startIdx: rel(this.start - base),
      endIdx: rel(this.end - base),
      final,
      mark: 0,
    };
    for (;;) {
      if (this.state === IN_RUN) {
        const step = segmentRunAt(
          buf(),
          w.from,
          n,
          final,
          this.owned,
          w.endIdx,
          this.runSink(),
          this.counts.segmenter,
        );
        if (step.status === 'done') {
          this.done = true;
          return;
        }
        if (step.status === 'open') {
          if (step.keepFrom >= 0) this.keep(buf(), step.keepFrom, base);
          return;
        }
        this.state = OUT;
        w.from = step.end;
      }
      const event = this.call(kernel, w, base);
      const pos = kernel.x.stoppedAt();
      switch (event) {
        case DONE:
          this.done = true;
          return;
        case END:
          return;
        case KEEP:
          this.keep(buf(), pos, base);
          return;
        case SUSPEND:
          this.suspendToken(buf(), kernel.x.tokenStart(), pos, base, w.startIdx);
          return;
        case LONG:
          // A complete token over the cap.
          this.counts.longTokens++;
          this.scanner.countLong(this.counts, capPrefix(buf(), kernel.x.tokenStart()));
          w.from = pos;
          break;
        case RUN: {
          const s = kernel.x.tokenStart();
          this.state = IN_RUN;
          this.owned = s >= w.startIdx;
          w.from = s;
          break;
        }
        case TOKEN_END:
          // The token followed in LONG_TOKEN state ended.
          this.state = OUT;
          if (this.owned) {
            this.counts.longTokens++;
            this.scanner.countLong(this.counts, this.longPrefix as Uint8Array);
          }
          this.longPrefix = null;
          w.from = pos;
          break;
        default:
          throw new Error(`wasm kernel: unknown scanner event ${event}`);
      }
    }
  }

  /** One scanner call from w.from, the invalid-sequence mark carried across calls. */
  private call(kernel: Kernel, w: ScanWindow, base: number): number {
    w.mark = rel(Math.max(0, this.invalidMark - base));
    const event =
      this.state === LONG_TOKEN
        ? this.scanner.follow(kernel, w, this.owned)
        : this.scanner.scan(kernel, w);
    this.invalidMark = base + kernel.x.invalidMark();
    this.counts.invalidSequences += kernel.x.invalidSeen();
    return event;
  }

  private runSink() {
    const counts = this.counts;
    return {
      addWord: (word: string) => counts.addWord(word),
      longToken: () => {
        counts.longTokens++;
      },
    };
  }

  private keep(buf: Uint8Array, from: number, base: number): void {
    this.carry = buf.slice(from);
    this.carryBase = base + from;
  }

  /** A token cut by the end of the buffer: carry it, or follow it without its bytes. */
  private suspendToken(buf: Uint8Array, s: number, i: number, base: number, startIdx: number) {
    const owned = s >= startIdx;
    if (owned && i - s <= TOKEN_CAP_BYTES) {
      this.keep(buf, s, base);
      return;
    }
    this.state = LONG_TOKEN;
    this.owned = owned;
    this.longPrefix = owned ? capPrefix(buf, s) : null;
    if (i < buf.length) this.keep(buf, i, base);
  }
}

/** Counts a whole buffer in one pass: the oracle the fan-out is compared with. */
export function countBytes(
  mode: Mode,
  bytes: Uint8Array,
  segmenter: SegmenterName = DEFAULT_SEGMENTER,
): RangeCounts {
  const counts = new TaskCounts(bytes.length, 0, segmenter);
  const counter = new RangeCounter(mode, 0, bytes.length, counts);
  counter.feed(bytes);
  return counter.finish();
}
