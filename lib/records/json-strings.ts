/**
 * JSON strings on bytes, for the field reader (json-field.ts): finding a string's end
 * with its escapes checked, and decoding one to UTF-8. A line without control
 * characters (nearly every line a JSON writer writes) has its strings scanned by native
 * searches (the next quote and backslash, each found once); one with any takes the
 * byte-by-byte path, which tells a tab between tokens from one inside a string. The
 * searches' state is per line: beginLine() sets it.
 */

/** The growable buffer a record's text is written into (see record-text.ts). */
export interface TextSink {
  /** Makes room for `n` more bytes; returns the buffer and where to write. */
  reserve(n: number): { bytes: Uint8Array; at: number };
  /** `n` bytes were written at the position `reserve` gave. */
  advance(n: number): void;
}

export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
const INVALID_BYTE = 0xff;

/** Not JSON, as Python's json.loads would refuse it: the message says why. */
export class NotJson extends Error {}

export const hexValue = (b: number) =>
  b >= 0x30 && b <= 0x39
    ? b - 0x30
    : b >= 0x61 && b <= 0x66
      ? b - 0x57
      : b >= 0x41 && b <= 0x46
        ? b - 0x37
        : -1;

/** Bytes a string's scan stops at: the quote, the backslash, control characters. */
const STOPS = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) STOPS[b] = 1;
STOPS[QUOTE] = 1;
STOPS[BACKSLASH] = 1;

/** A control character: what a JSON string may not hold raw. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const CONTROL = /[\x00-\x1f]/;
const latin1Slice = Buffer.prototype.latin1Slice as (
  this: Uint8Array,
  s: number,
  e: number,
) => string;
/** Whether the line being read has no control character: its strings need no byte scan. */
let fastStrings = false;
/** The next backslash of `backslashBytes` at or after the last search (Infinity: none). */
let nextBackslashAt = -1;
let backslashBytes: Uint8Array | undefined;
/** The end of the last line read from `backslashBytes`. */
let backslashFloor = 0;

/** Where the search that found `nextBackslashAt` started. */
let searchedFrom = 0;

/** The first backslash at or after `j`: found again unless the last search covers j. */
function nextBackslash(bytes: Uint8Array, j: number): number {
  if (j < searchedFrom || nextBackslashAt < j) {
    const at = bytes.indexOf(BACKSLASH, j);
    nextBackslashAt = at < 0 ? Number.POSITIVE_INFINITY : at;
    searchedFrom = j;
  }
  return nextBackslashAt;
}

/** skipString for a line without control characters: quotes and backslashes found natively. */
function skipStringFast(bytes: Uint8Array, i: number, end: number): number {
  let j = i + 1;
  let quote = -1;
  for (;;) {
    // Searched again only once an escaped quote was passed.
    if (quote < j) quote = bytes.indexOf(QUOTE, j);
    if (quote < 0 || quote >= end) throw new NotJson('an unterminated string');
    const backslash = nextBackslash(bytes, j);
    if (backslash > quote) return quote + 1;
    j = skipEscape(bytes, backslash, end);
  }
}

/** Past the escape whose backslash is at `at`; a bad one is not JSON. */
function skipEscape(bytes: Uint8Array, at: number, end: number): number {
  const e = bytes[at + 1];
  if (e === 0x75) {
    for (let k = 2; k <= 5; k++) {
      if (at + k >= end || hexValue(bytes[at + k] as number) < 0)
        throw new NotJson('a bad \\u escape');
    }
    return at + 6;
  }
  if (
    e === QUOTE ||
    e === BACKSLASH ||
    e === 0x2f ||
    e === 0x62 ||
    e === 0x66 ||
    e === 0x6e ||
    e === 0x72 ||
    e === 0x74
  ) {
    return at + 2;
  }
  throw new NotJson('a bad escape');
}

/** The end of the string that starts (with its quote) at `i`; checks its escapes. */
export function skipString(bytes: Uint8Array, i: number, end: number): number {
  if (fastStrings) return skipStringFast(bytes, i, end);
  for (let j = i + 1; j < end; j++) {
    // Most bytes of a text stop nothing: one table look-up each.
    while (j < end && STOPS[bytes[j] as number] === 0) j++;
    if (j >= end) break;
    const b = bytes[j] as number;
    if (b === QUOTE) return j + 1;
    if (b < 0x20) throw new NotJson('a control character in a string');
    // The loop's j++ steps past the escape.
    if (b === BACKSLASH) j = skipEscape(bytes, j, end) - 1;
  }
  throw new NotJson('an unterminated string');
}

/**
 * Forgets the bytes the searches last looked at (a reader that ended: its buffers, up to
 * a record's size, are not kept alive by the search state).
 */
export function releaseLines(): void {
  backslashBytes = undefined;
  nextBackslashAt = -1;
}

/**
 * Starts the reading of line `bytes[s, end)`: how its strings are scanned. Lines of one
 * buffer come in order, from unchanged bytes; a caller that rewrites a buffer passes a
 * new view of it (the JSON Lines reader passes its carry as a new subarray each time).
 */
export function beginLine(bytes: Uint8Array, s: number, end: number): void {
  fastStrings = !CONTROL.test(latin1Slice.call(bytes, s, end));
  // A backslash found ahead stays valid for the lines after it in the same bytes (a
  // reused buffer, the reader's carry, starts again at 0 with other content).
  if (bytes !== backslashBytes || s < backslashFloor) {
    backslashBytes = bytes;
    nextBackslashAt = -1;
  }
  backslashFloor = end;
}

const hex4 = (bytes: Uint8Array, i: number) =>
  (hexValue(bytes[i] as number) << 12) |
  (hexValue(bytes[i + 1] as number) << 8) |
  (hexValue(bytes[i + 2] as number) << 4) |
  hexValue(bytes[i + 3] as number);

const SIMPLE_ESCAPES: Record<number, number> = {
  34: 0x22,
  92: 0x5c,
  47: 0x2f,
  98: 0x08,
  102: 0x0c,
  110: 0x0a,
  114: 0x0d,
  116: 0x09,
};

/** Decodes the (validated) string starting at `i` into `out` as UTF-8. */
export function decodeString(bytes: Uint8Array, i: number, out: TextSink): void {
  let j = i + 1;
  /** The next backslash at or after j (Infinity: none), and the next quote. */
  let backslash = -1;
  let quote = -1;
  for (;;) {
    // A run without escapes is copied as it is (the string was validated: it ends).
    if (quote < j) quote = bytes.indexOf(QUOTE, j);
    if (backslash < j) {
      const at = bytes.indexOf(BACKSLASH, j);
      backslash = at < 0 ? Number.POSITIVE_INFINITY : at;
    }
    const k = Math.min(backslash, quote);
    if (k > j) {
      const room = out.reserve(k - j);
      room.bytes.set(bytes.subarray(j, k), room.at);
      out.advance(k - j);
    }
    if (bytes[k] === QUOTE) return;
    const e = bytes[k + 1] as number;
    if (e !== 0x75) {
      const room = out.reserve(1);
      room.bytes[room.at] = SIMPLE_ESCAPES[e] as number;
      out.advance(1);
      j = k + 2;
      continue;
    }
    let cp = hex4(bytes, k + 2);
    j = k + 6;
    if (cp >= 0xd800 && cp <= 0xdbff && bytes[j] === BACKSLASH && bytes[j + 1] === 0x75) {
      const low = hex4(bytes, j + 2);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        j += 6;
      }
    }
    writeCodePoint(cp, out);
  }
}

function writeCodePoint(cp: number, out: TextSink): void {
  const room = out.reserve(4);
  const b = room.bytes;
  let at = room.at;
  if (cp < 0x80) b[at++] = cp;
  else if (cp < 0x800) {
    b[at++] = 0xc0 | (cp >> 6);
    b[at++] = 0x80 | (cp & 0x3f);
  } else if (cp >= 0xd800 && cp <= 0xdfff) {
    // A lone surrogate: one ill-formed unit.
    b[at++] = INVALID_BYTE;
  } else if (cp < 0x10000) {
    b[at++] = 0xe0 | (cp >> 12);
    b[at++] = 0x80 | ((cp >> 6) & 0x3f);
    b[at++] = 0x80 | (cp & 0x3f);
  } else {
    b[at++] = 0xf0 | (cp >> 18);
    b[at++] = 0x80 | ((cp >> 12) & 0x3f);
    b[at++] = 0x80 | ((cp >> 6) & 0x3f);
    b[at++] = 0x80 | (cp & 0x3f);
  }
  out.advance(at - room.at);
}
