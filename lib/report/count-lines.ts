/**
 * Reads a counts file (`word<TAB>count\n`, or `word<TAB>count<TAB>docs\n` with
 * --doc-freq; count descending, then the word's UTF-8 bytes ascending) as a stream of lines, checking each: a malformed line or one out of order
 * is an error naming the file and the line. Words stay bytes: a caller decodes only
 * those it keeps, so tens of millions of lines pass without a string each.
 */
import { CorruptInputError, WordcountError } from '../errors.js';

/**
 * Called for each line: its word is `bytes[start, tab)`, its count after the tab; `bytes`
 * is valid only during the call.
 */
export type CountLineHandler = (
  bytes: Uint8Array,
  start: number,
  tab: number,
  count: number,
) => void;

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const TAB = 9;
const NEWLINE = 10;
const ZERO = 48;

/** Compares `a[start, end)` with `b[0, length)`. */
function compareBytes(
  a: Uint8Array,
  start: number,
  end: number,
  b: Uint8Array,
  length: number,
): number {
  const n = Math.min(end - start, length);
  for (let i = 0; i < n; i++) {
    const d = (a[start + i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return end - start - length;
}

function preview(bytes: Uint8Array, start: number, end: number): string {
  const text = decoder.decode(bytes.subarray(start, Math.min(end, start + 200)));
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

/** The count in `bytes[tab + 1, end)`: decimal digits, no sign, no leading zero; else NaN. */
function parseCount(bytes: Uint8Array, tab: number, end: number): number {
  const digits = end - tab - 1;
  if (digits < 1 || digits > 16 || bytes[tab + 1] === ZERO) return Number.NaN;
  let value = 0;
  for (let i = tab + 1; i < end; i++) {
    const d = (bytes[i] as number) - ZERO;
    if (d < 0 || d > 9) return Number.NaN;
    value = value * 10 + d;
  }
  return Number.isSafeInteger(value) ? value : Number.NaN;
}

/**
 * Calls `fn` for each line of the counts in `chunks`, in order; `what` (a path, a URI)
 * names them in errors, with the line number. A WordcountError that `fn` throws is
 * reported at its line too. Returns the number of lines.
 */
export async function forEachCountLine(
  chunks: AsyncIterable<Uint8Array>,
  what: string,
  fn: CountLineHandler,
): Promise<number> {
  let lineNumber = 0;
  let previousCount = Number.POSITIVE_INFINITY;
  let previousWord = new Uint8Array(256);
  let previousLength = 0;
  const fail = (message: string, cause?: unknown): never => {
    throw new CorruptInputError(`${what}:${lineNumber}: ${message}`, { cause });
  };
  // Indices, not a subarray a line: views cost more than the rest of the work on a line.
  const take = (bytes: Uint8Array, start: number, end: number) => {
    lineNumber += 1;
    // A word holds no tab; a third column (--doc-freq: documents, at most the count) may follow.
    let tab = start;
    while (tab < end && bytes[tab] !== TAB) tab++;
    let countEnd = tab + 1;
    while (countEnd < end && bytes[countEnd] !== TAB) countEnd++;
    let count = tab > start && tab < end ? parseCount(bytes, tab, countEnd) : Number.NaN;
    if (countEnd < end) {
      const docs = parseCount(bytes, countEnd, end);
      if (!(docs <= count)) count = Number.NaN;
    }
    if (Number.isNaN(count)) {
      fail(
        `not a line of word<TAB>count with a positive whole count: ${preview(bytes, start, end)}`,
      );
    }
    if (count > previousCount) {
      fail(`count ${count} after ${previousCount}: the lines are not sorted by count descending`);
    }
    const length = tab - start;
    if (
      count === previousCount &&
      compareBytes(bytes, start, tab, previousWord, previousLength) <= 0
    ) {
      fail(
        `${preview(bytes, start, tab)} is not after the word before it in UTF-8 byte order (lines of one count are sorted by their words, each once)`,
      );
    }
    if (length > previousWord.length) previousWord = new Uint8Array(length * 2);
    for (let i = 0; i < length; i++) previousWord[i] = bytes[start + i] as number;
    previousLength = length;
    previousCount = count;
    try {
      fn(bytes, start, tab, count);
    } catch (error) {
      if (error instanceof WordcountError && !(error instanceof CorruptInputError)) {
        fail(error.message, error);
      }
      throw error;
    }
  };
  let carry: Uint8Array | undefined;
  for await (const chunk of chunks) {
    // A plain view: a Buffer's own methods and views are slower per call.
    let buffer = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (carry) {
      buffer = new Uint8Array(carry.length + chunk.length);
      buffer.set(carry);
      buffer.set(chunk, carry.length);
    }
    let start = 0;
    for (let nl = buffer.indexOf(NEWLINE); nl >= 0; nl = buffer.indexOf(NEWLINE, start)) {
      take(buffer, start, nl);
      start = nl + 1;
    }
    carry = start < buffer.length ? buffer.slice(start) : undefined;
  }
  // The last newline may be missing.
  if (carry) take(carry, 0, carry.length);
  return lineNumber;
}
