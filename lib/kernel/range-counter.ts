/**
 * The counting kernel: scans the bytes of one range and counts the tokens that start
 * in it. Pure and synchronous; bytes arrive in pieces of any size, so the same code
 * counts a local file, an S3 stream or a test buffer.
 *
 * Ownership rule: a token belongs to the range that holds its first byte. The caller
 * feeds bytes from `readStartFor(start)` (a few bytes before the range, to see whether
 * the range starts inside a token or inside a multi-byte character) and keeps feeding
 * past `end` until `done` turns true, which happens once the last owned token is
 * finished.
 */
import {
  ASCII_WHITESPACE,
  ASCII_WORD_CLASS,
  foldSegment,
  foldWord,
  isPythonWhitespace,
  JOINER,
  type Mode,
  SCRIPT_RUN,
  SEGMENT_WINDOW_CHARS,
  SEP,
  segmentRun,
  WORD,
  wordClass,
} from '../tokenize.js';
import { decodeUnit, isContinuationByte, NEED_MORE, unitLength } from '../utf8.js';
import { TaskCounts } from './task-counts.js';

/** Tokens longer than this many bytes are counted under their first bytes plus "…". */
export const TOKEN_CAP_BYTES = 4096;
/** Bytes read before a range: 3 to resynchronise UTF-8, then two whole characters. */
export const LOOKBACK_BYTES = 16;
/** Suffix of the key a too-long token is counted under. */
export const LONG_TOKEN_SUFFIX = '…';

const LONG_SUFFIX_BYTES = new TextEncoder().encode(LONG_TOKEN_SUFFIX);
// Per byte in `words` mode: the ASCII class, or NOT_ASCII.
const NOT_ASCII = 3;
const WORD_BYTE_CLASS = new Uint8Array(256).map((_, b) =>
  b >= 0x80 ? NOT_ASCII : (ASCII_WORD_CLASS[b] as number),
);
// Per byte in `whitespace` mode: 0 ASCII token byte, 1 ASCII whitespace, 2 not ASCII.
const WHITESPACE_CLASS = new Uint8Array(256).map((_, b) =>
  b >= 0x80 ? 2 : ASCII_WHITESPACE[b] === 1 ? 1 : 0,
);
const PRELUDE_BYTES = LOOKBACK_BYTES + 8;

// Scanner states between pieces.
const OUT = 0;
const LONG = 1;
const RUN = 2;

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const encoder = new TextEncoder();

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

/** The first TOKEN_CAP_BYTES of buf[s..], extended to the end of the character it cuts. */
function capPrefix(buf: Uint8Array, s: number): Uint8Array {
  // Whole UTF-8 units (a character, or one invalid sequence) that start before the cap:
  // the same bytes however the input was split.
  let e = s;
  while (e < s + TOKEN_CAP_BYTES && e < buf.length)
    e += unitLength(decodeUnit(buf, e, buf.length, true));
  return buf.slice(s, e);
}

/** Counts the tokens of one byte range; see the module comment for the protocol. */
export class RangeCounter {
  /** True once every token owned by the range has been counted: stop feeding. */
  done = false;
  /** Where the counts go: the range's own, or a task's shared by several ranges. */
  counts: TaskCounts;

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
    let buf = piece;
    let base = this.next;
    if (this.carry !== null) {
      buf = new Uint8Array(this.carry.length + piece.length);
      buf.set(this.carry);
      buf.set(piece, this.carry.length);
      base = this.carryBase;
      this.carry = null;
    }
    this.next += piece.length;
    this.scan(buf, base, false);
  }

  /** Ends the input (end of object or enough read): counts the last token, if any. */
  endInput(): void {
    if (this.done) return;
    const buf = this.carry ?? new Uint8Array(0);
    const base = this.carry !== null ? this.carryBase : this.next;
    this.carry = null;
    this.scan(buf, base, true);
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

  private scan(buf: Uint8Array, base: number, final: boolean): void {
    let from = 0;
    if (!this.started) {
      if (buf.length < PRELUDE_BYTES && !final) {
        this.keep(buf, 0, base);
        return;
      }
      this.started = true;
      if (base === 0 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) from = 3;
      else if (base > 0) {
        // Bytes before the first lead or ASCII byte may belong to a character that
        // starts before what we read; the characters after it decode the same as in a
        // single pass over the whole object.
        while (
          from < buf.length &&
          base + from < this.start &&
          isContinuationByte(buf[from] as number)
        )
          from++;
        // Nothing but continuation bytes before the range: the last of them is a lone,
        // invalid unit (no lead is within reach), and scanning from it tells whether
        // the range starts inside a token.
        if (base + from === this.start && from > 0) from--;
      }
    }
    if (this.mode === 'whitespace') this.scanWhitespace(buf, from, base, final);
    else this.scanWords(buf, from, base, final);
  }

  private keep(buf: Uint8Array, from: number, base: number): void {
    this.carry = buf.slice(from);
    this.carryBase = base + from;
  }

  private noteInvalid(pos: number, len: number): void {
    // Carried bytes are scanned again; count each sequence once.
    if (pos < this.invalidMark) return;
    this.invalidMark = pos + len;
    if (pos >= this.start && pos < this.end) this.counts.invalidSequences++;
  }

  /** A token cut by the end of the buffer: carry it, or follow it without its bytes. */
  private suspendToken(buf: Uint8Array, s: number, i: number, base: number, owned: boolean): void {
    if (owned && i - s <= TOKEN_CAP_BYTES) {
      this.keep(buf, s, base);
      return;
    }
    this.state = LONG;
    this.owned = owned;
    this.longPrefix = owned ? capPrefix(buf, s) : null;
    if (i < buf.length) this.keep(buf, i, base);
  }

  private countLongToken(buf: Uint8Array, s: number): void {
    this.counts.longTokens++;
    const prefix = this.longPrefix ?? capPrefix(buf, s);
    this.longPrefix = null;
    if (this.mode === 'whitespace') {
      const key = new Uint8Array(prefix.length + LONG_SUFFIX_BYTES.length);
      key.set(prefix);
      key.set(LONG_SUFFIX_BYTES, prefix.length);
      this.counts.table.add(
        key,
        new DataView(key.buffer, key.byteOffset, key.length),
        0,
        key.length,
        false,
      );
    } else {
      this.addWord(foldWord(decoder.decode(prefix)) + LONG_TOKEN_SUFFIX);
    }
  }

  private addWord(word: string): void {
    this.counts.addWord(word);
  }

  private scanWhitespace(buf: Uint8Array, from: number, base: number, final: boolean): void {
    const n = buf.length;
    const startIdx = this.start - base;
    const endIdx = this.end - base;
    let i = from;
    if (this.state === LONG) {
      i = this.skipLongWhitespace(buf, i, base, final, endIdx);
      if (this.state === LONG || this.done) return;
    }
    const table = this.counts.table;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (;;) {
      // Separators. A token starting at or after endIdx belongs to the next range.
      for (;;) {
        if (i >= endIdx) {
          this.done = true;
          return;
        }
        if (i >= n) return;
        const b = buf[i] as number;
        if (b < 0x80) {
          if (ASCII_WHITESPACE[b] === 1) {
            i++;
            continue;
          }
          break;
        }
        const u = decodeUnit(buf, i, n, final);
        if (u === NEED_MORE) {
          this.keep(buf, i, base);
          return;
        }
        if (u > 0 && isPythonWhitespace(u >>> 3)) {
          i += u & 7;
          continue;
        }
        break;
      }
      const s = i;
      let incomplete = false;
      for (;;) {
        let c = 0;
        while (i < n) {
          c = WHITESPACE_CLASS[buf[i] as number] as number;
          if (c !== 0) break;
          i++;
        }
        if (i >= n) {
          incomplete = !final;
          break;
        }
        if (c === 1) break;
        const u = decodeUnit(buf, i, n, final);
        if (u === NEED_MORE) {
          incomplete = true;
          break;
        }
        if (u > 0) {
          if (isPythonWhitespace(u >>> 3)) break;
          i += u & 7;
        } else {
          this.noteInvalid(base + i, -u - 1);
          i += -u - 1;
        }
      }
      const owned = s >= startIdx;
      if (incomplete) {
        this.suspendToken(buf, s, i, base, owned);
        return;
      }
      if (!owned) continue;
      if (i - s > TOKEN_CAP_BYTES) this.countLongToken(buf, s);
      else {
        table.add(buf, view, s, i, false);
      }
    }
  }

  /** Follows a token too long to carry; returns where it ends. */
  private skipLongWhitespace(
    buf: Uint8Array,
    from: number,
    base: number,
    final: boolean,
    endIdx: number,
  ): number {
    const n = buf.length;
    let i = from;
    for (;;) {
      if (!this.owned && i >= endIdx) {
        this.done = true;
        return i;
      }
      if (i >= n) {
        if (!final) return i;
        break;
      }
      const b = buf[i] as number;
      if (b < 0x80) {
        if (ASCII_WHITESPACE[b] === 1) break;
        i++;
        continue;
      }
      const u = decodeUnit(buf, i, n, final);
      if (u === NEED_MORE) {
        this.keep(buf, i, base);
        return i;
      }
      if (u > 0) {
        if (isPythonWhitespace(u >>> 3)) break;
        i += u & 7;
      } else {
        this.noteInvalid(base + i, -u - 1);
        i += -u - 1;
      }
    }
    this.state = OUT;
    if (this.owned) this.countLongToken(buf, 0);
    return i;
  }

  private scanWords(buf: Uint8Array, from: number, base: number, final: boolean): void {
    const n = buf.length;
    const startIdx = this.start - base;
    const endIdx = this.end - base;
    let i = from;
    if (this.state === LONG) {
      i = this.skipLongWord(buf, i, base, final, endIdx);
      if (this.state === LONG || this.done) return;
    } else if (this.state === RUN) {
      i = this.scanRun(buf, i, base, final, this.owned, endIdx);
      if (this.state === RUN || this.done) return;
    }
    const table = this.counts.table;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (;;) {
      let cls = SEP;
      for (;;) {
        if (i >= endIdx) {
          this.done = true;
          return;
        }
        if (i >= n) return;
        const b = buf[i] as number;
        if (b < 0x80) {
          if (ASCII_WORD_CLASS[b] === WORD) {
            cls = WORD;
            break;
          }
          i++;
          continue;
        }
        const u = decodeUnit(buf, i, n, final);
        if (u === NEED_MORE) {
          this.keep(buf, i, base);
          return;
        }
        if (u < 0) {
          this.noteInvalid(base + i, -u - 1);
          i += -u - 1;
          continue;
        }
        const c = wordClass(u >>> 3);
        if (c === WORD || c === SCRIPT_RUN) {
          cls = c;
          break;
        }
        i += u & 7;
      }
      const s = i;
      const owned = s >= startIdx;
      if (cls === SCRIPT_RUN) {
        i = this.scanRun(buf, s, base, final, owned, endIdx);
        if (this.state === RUN || this.done) return;
        continue;
      }
      let ascii = true;
      let incomplete = false;
      for (;;) {
        let c = SEP;
        while (i < n) {
          c = WORD_BYTE_CLASS[buf[i] as number] as number;
          if (c !== WORD) break;
          i++;
        }
        if (i >= n) {
          incomplete = !final;
          break;
        }
        let len = 1;
        if (c === NOT_ASCII) {
          const u = decodeUnit(buf, i, n, final);
          if (u === NEED_MORE) {
            incomplete = true;
            break;
          }
          if (u < 0) break;
          c = wordClass(u >>> 3);
          len = u & 7;
          if (c === WORD) {
            ascii = false;
            i += len;
            continue;
          }
        }
        if (c !== JOINER) break;
        // An apostrophe or hyphen stays in the word only when a word character follows.
        const follows = this.wordFollows(buf, i + len, n, final);
        if (follows === NEED_MORE) {
          incomplete = true;
          break;
        }
        if (follows === 0) break;
        if (len > 1) ascii = false;
        i += len;
      }
      if (incomplete) {
        this.suspendToken(buf, s, i, base, owned);
        return;
      }
      if (!owned) continue;
      if (i - s > TOKEN_CAP_BYTES) this.countLongToken(buf, s);
      else {
        if (ascii) table.add(buf, view, s, i, true);
        else this.addWord(foldWord(decoder.decode(buf.subarray(s, i))));
      }
    }
  }

  /** 1 if a WORD character starts at j, 0 if not, NEED_MORE if the buffer ends first. */
  private wordFollows(buf: Uint8Array, j: number, n: number, final: boolean): number {
    if (j >= n) return final ? 0 : NEED_MORE;
    const b = buf[j] as number;
    if (b < 0x80) return ASCII_WORD_CLASS[b] === WORD ? 1 : 0;
    const u = decodeUnit(buf, j, n, final);
    if (u === NEED_MORE) return NEED_MORE;
    return u > 0 && wordClass(u >>> 3) === WORD ? 1 : 0;
  }

  private skipLongWord(
    buf: Uint8Array,
    from: number,
    base: number,
    final: boolean,
    endIdx: number,
  ): number {
    const n = buf.length;
    let i = from;
    for (;;) {
      if (!this.owned && i >= endIdx) {
        this.done = true;
        return i;
      }
      if (i >= n) {
        if (!final) return i;
        break;
      }
      const u = decodeUnit(buf, i, n, final);
      if (u === NEED_MORE) {
        this.keep(buf, i, base);
        return i;
      }
      if (u < 0) break;
      const len = u & 7;
      const c = wordClass(u >>> 3);
      if (c === WORD) {
        i += len;
        continue;
      }
      if (c !== JOINER) break;
      const follows = this.wordFollows(buf, i + len, n, final);
      if (follows === NEED_MORE) {
        this.keep(buf, i, base);
        return i;
      }
      if (follows === 0) break;
      i += len;
    }
    this.state = OUT;
    if (this.owned) this.countLongToken(buf, 0);
    return i;
  }

  /**
   * A run of a script written without spaces, from its first byte (or from where the
   * previous window left off). The run goes to Intl.Segmenter in windows of
   * SEGMENT_WINDOW_CHARS characters counted from the run's start, so where the windows
   * fall never depends on how the bytes were split into pieces or ranges.
   */
  private scanRun(
    buf: Uint8Array,
    from: number,
    base: number,
    final: boolean,
    owned: boolean,
    endIdx: number,
  ): number {
    const n = buf.length;
    let rs = from;
    let chars = 0;
    let i = from;
    let incomplete = false;
    for (;;) {
      if (!owned && i >= endIdx) {
        this.done = true;
        return i;
      }
      if (i >= n) {
        incomplete = !final;
        break;
      }
      if ((buf[i] as number) < 0x80) break;
      const u = decodeUnit(buf, i, n, final);
      if (u === NEED_MORE) {
        incomplete = true;
        break;
      }
      if (u < 0 || wordClass(u >>> 3) !== SCRIPT_RUN) break;
      i += u & 7;
      chars++;
      if (owned && chars === SEGMENT_WINDOW_CHARS) {
        const { words, rest } = segmentRun(decoder.decode(buf.subarray(rs, i)), false);
        for (const w of words) this.countSegment(w);
        rs = i - Buffer.byteLength(rest);
        chars = [...rest].length;
      }
    }
    if (incomplete) {
      this.state = RUN;
      this.owned = owned;
      if (owned) this.keep(buf, rs, base);
      else if (i < n) this.keep(buf, i, base);
      return i;
    }
    this.state = OUT;
    if (owned && i > rs) {
      for (const w of segmentRun(decoder.decode(buf.subarray(rs, i)), true).words) {
        this.countSegment(w);
      }
    }
    return i;
  }

  private countSegment(segment: string): void {
    // At most 3 UTF-8 bytes per UTF-16 unit: short segments need no encoding to check.
    if (segment.length * 3 > TOKEN_CAP_BYTES && Buffer.byteLength(segment) > TOKEN_CAP_BYTES) {
      this.counts.longTokens++;
      this.addWord(
        foldSegment(decoder.decode(capPrefix(encoder.encode(segment), 0))) + LONG_TOKEN_SUFFIX,
      );
    } else this.addWord(foldSegment(segment));
  }
}

/** Counts a whole buffer in one pass: the oracle the fan-out is compared with. */
export function countBytes(mode: Mode, bytes: Uint8Array): RangeCounts {
  const counter = new RangeCounter(mode, 0, bytes.length);
  counter.feed(bytes);
  return counter.finish();
}
