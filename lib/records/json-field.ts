/**
 * The text of one JSON Lines record: the string at a dotted field path of the line's
 * object, its escapes decoded to UTF-8, read as Python's `json.loads` reads the line.
 * The whole line is checked (trailing data, control characters, bad escapes, numbers),
 * a duplicate key takes its last value, `NaN` and `Infinity` are numbers, and a lone
 * surrogate escape becomes one ill-formed byte (0xFF), which the kernel counts as an
 * invalid sequence and reads as U+FFFD. A line that is not valid UTF-8 is not JSON.
 *
 * Byte-level and allocation-free on the way (the line is scanned once to validate it
 * and find the field; only the field's string is decoded), so a corpus is not parsed
 * into objects it never needs.
 */
import { isUtf8 } from 'node:buffer';

/** The growable buffer a record's text is written into (see record-text.ts). */
export interface TextSink {
  /** Makes room for `n` more bytes; returns the buffer and where to write. */
  reserve(n: number): { bytes: Uint8Array; at: number };
  /** `n` bytes were written at the position `reserve` gave. */
  advance(n: number): void;
}

export type FieldRead =
  | { kind: 'text' }
  /** Only whitespace: not a record. */
  | { kind: 'blank' }
  | { kind: 'invalid'; reason: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const INVALID_BYTE = 0xff;

class NotJson extends Error {}

const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
const hexValue = (b: number) =>
  b >= 0x30 && b <= 0x39
    ? b - 0x30
    : b >= 0x61 && b <= 0x66
      ? b - 0x57
      : b >= 0x41 && b <= 0x46
        ? b - 0x37
        : -1;

const encoder = new TextEncoder();
const BLANK: FieldRead = { kind: 'blank' };
const TEXT: FieldRead = { kind: 'text' };

export class JsonField {
  /** The path's keys, as UTF-8. */
  private readonly keys: Uint8Array[];

  constructor(readonly path: string) {
    this.keys = path.split('.').map((k) => encoder.encode(k));
  }

  /**
   * Reads the line `bytes[start, end)`: its field's text is appended to `out` (nothing
   * is written unless the record is valid and its field a string).
   */
  read(bytes: Uint8Array, start: number, end: number, out: TextSink): FieldRead {
    let s = start;
    // json.loads(bytes) takes a UTF-8 byte-order mark.
    if (end - s >= 3 && bytes[s] === 0xef && bytes[s + 1] === 0xbb && bytes[s + 2] === 0xbf) s += 3;
    const first = skipSpace(bytes, s, end);
    if (first === end) return BLANK;
    if (!isUtf8(bytes.subarray(s, end))) return invalid('not valid UTF-8');
    // A line without control characters (nearly every line a JSON writer writes) has its
    // strings scanned by native searches; one with any takes the byte-by-byte path,
    // which tells a tab between tokens from one inside a string.
    fastStrings = !CONTROL.test(latin1Slice.call(bytes, s, end));
    // A backslash found ahead stays valid for the lines after it in the same bytes (a
    // reused buffer, the reader's carry, starts again at 0 with other content).
    if (bytes !== backslashBytes || s < backslashFloor) {
      backslashBytes = bytes;
      nextBackslashAt = -1;
    }
    backslashFloor = end;
    let found: { start: number; end: number } | undefined;
    try {
      if (bytes[first] !== 0x7b) {
        // Still JSON (a string, a number, an array): a record, but not an object.
        const after = skipValue(bytes, first, end);
        if (skipSpace(bytes, after, end) !== end) throw new NotJson('extra data after the value');
        return invalid('not a JSON object');
      }
      found = this.member(bytes, first, end, 0, true);
    } catch (error) {
      if (error instanceof NotJson) return invalid(`not JSON: ${error.message}`);
      throw error;
    }
    for (let depth = 1; found && depth < this.keys.length; depth++) {
      if (bytes[found.start] !== 0x7b) return invalid(`field '${this.path}' is missing`);
      found = this.member(bytes, found.start, found.end, depth, false);
    }
    if (!found) return invalid(`field '${this.path}' is missing`);
    if (bytes[found.start] !== QUOTE) {
      return invalid(`field '${this.path}' is not a string`);
    }
    decodeString(bytes, found.start, out);
    return TEXT;
  }

  /**
   * Scans the object at `at` (to `end`, which must end it, after whitespace, when
   * `whole`), returning the span of the last value of key `keys[depth]`.
   */
  private member(
    bytes: Uint8Array,
    at: number,
    end: number,
    depth: number,
    whole: boolean,
  ): { start: number; end: number } | undefined {
    const key = this.keys[depth] as Uint8Array;
    let found: { start: number; end: number } | undefined;
    let i = skipSpace(bytes, at + 1, end);
    if (bytes[i] === 0x7d) i++;
    else {
      for (;;) {
        if (bytes[i] !== QUOTE) throw new NotJson('expected a key');
        const keyEnd = skipString(bytes, i, end);
        const matches = keyEquals(bytes, i, keyEnd, key);
        i = skipSpace(bytes, keyEnd, end);
        if (bytes[i] !== 0x3a) throw new NotJson("expected ':'");
        const valueStart = skipSpace(bytes, i + 1, end);
        const valueEnd = skipValue(bytes, valueStart, end);
        if (matches) found = { start: valueStart, end: valueEnd };
        i = skipSpace(bytes, valueEnd, end);
        if (bytes[i] === 0x2c) {
          i = skipSpace(bytes, i + 1, end);
          continue;
        }
        if (bytes[i] === 0x7d) {
          i++;
          break;
        }
        throw new NotJson("expected ',' or '}'");
      }
    }
    if (whole && skipSpace(bytes, i, end) !== end) throw new NotJson('extra data after the object');
    return found;
  }
}

function invalid(reason: string): FieldRead {
  return { kind: 'invalid', reason };
}

function skipSpace(bytes: Uint8Array, i: number, end: number): number {
  while (i < end && isSpace(bytes[i] as number)) i++;
  return i;
}

/** Bytes a string's scan stops at: the quote, the backslash, control characters. */
const STOPS = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) STOPS[b] = 1;
STOPS[QUOTE] = 1;
STOPS[BACKSLASH] = 1;

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
function skipString(bytes: Uint8Array, i: number, end: number): number {
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

const startsWith = (bytes: Uint8Array, i: number, end: number, word: string) => {
  if (end - i < word.length) return false;
  for (let k = 0; k < word.length; k++) if (bytes[i + k] !== word.charCodeAt(k)) return false;
  return true;
};

const isDigit = (b: number | undefined) => b !== undefined && b >= 0x30 && b <= 0x39;

/** The end of the number at `i`, as Python's json scans one (NaN and ±Infinity too). */
function skipNumber(bytes: Uint8Array, i: number, end: number): number {
  let j = i;
  if (bytes[j] === 0x2d) {
    j++;
    if (startsWith(bytes, j, end, 'Infinity')) return j + 8;
  }
  if (j >= end || !isDigit(bytes[j])) throw new NotJson('a bad value');
  if (bytes[j] === 0x30) j++;
  else while (j < end && isDigit(bytes[j])) j++;
  if (bytes[j] === 0x2e && isDigit(bytes[j + 1])) {
    j += 2;
    while (j < end && isDigit(bytes[j])) j++;
  }
  if (bytes[j] === 0x65 || bytes[j] === 0x45) {
    let k = j + 1;
    if (bytes[k] === 0x2b || bytes[k] === 0x2d) k++;
    if (isDigit(bytes[k])) {
      j = k + 1;
      while (j < end && isDigit(bytes[j])) j++;
    }
  }
  return j;
}

/** The end of the JSON value at `i` (validated), without recursion. */
function skipValue(bytes: Uint8Array, i: number, end: number): number {
  // Open containers: '{' or '['; and for each, whether a key or value comes next.
  const open: number[] = [];
  let j = i;
  for (;;) {
    j = skipSpace(bytes, j, end);
    if (j >= end) throw new NotJson('the line ends inside a value');
    const b = bytes[j] as number;
    // One value.
    if (b === QUOTE) j = skipString(bytes, j, end);
    else if (b === 0x7b || b === 0x5b) {
      const k = skipSpace(bytes, j + 1, end);
      const close = b === 0x7b ? 0x7d : 0x5d;
      if (bytes[k] === close) j = k + 1;
      else {
        open.push(b);
        j = b === 0x7b ? afterKey(bytes, k, end) : k;
        continue;
      }
    } else if (startsWith(bytes, j, end, 'true')) j += 4;
    else if (startsWith(bytes, j, end, 'false')) j += 5;
    else if (startsWith(bytes, j, end, 'null')) j += 4;
    else if (startsWith(bytes, j, end, 'NaN')) j += 3;
    else if (startsWith(bytes, j, end, 'Infinity')) j += 8;
    else j = skipNumber(bytes, j, end);
    // After a value: close what it ends, or go on to the next one.
    for (;;) {
      if (open.length === 0) return j;
      j = skipSpace(bytes, j, end);
      const container = open[open.length - 1];
      const c = bytes[j];
      if (c === 0x2c) {
        j = container === 0x7b ? afterKey(bytes, skipSpace(bytes, j + 1, end), end) : j + 1;
        break;
      }
      if ((container === 0x7b && c === 0x7d) || (container === 0x5b && c === 0x5d)) {
        open.pop();
        j++;
        continue;
      }
      throw new NotJson(container === 0x7b ? "expected ',' or '}'" : "expected ',' or ']'");
    }
  }
}

/** Past `"key":` at `i`: where the member's value starts. */
function afterKey(bytes: Uint8Array, i: number, end: number): number {
  if (bytes[i] !== QUOTE) throw new NotJson('expected a key');
  const j = skipSpace(bytes, skipString(bytes, i, end), end);
  if (bytes[j] !== 0x3a) throw new NotJson("expected ':'");
  return j + 1;
}

/** Whether the key string `bytes[i, keyEnd)` (quotes included) decodes to `key`. */
function keyEquals(bytes: Uint8Array, i: number, keyEnd: number, key: Uint8Array): boolean {
  const raw = bytes.subarray(i + 1, keyEnd - 1);
  if (!raw.includes(BACKSLASH)) {
    if (raw.length !== key.length) return false;
    for (let k = 0; k < key.length; k++) if (raw[k] !== key[k]) return false;
    return true;
  }
  const decoded = growable();
  decodeString(bytes, i, decoded);
  const got = decoded.bytes();
  return got.length === key.length && got.every((b, k) => b === key[k]);
}

/** A small growable sink (keys with escapes). */
function growable() {
  let buf = new Uint8Array(64);
  let n = 0;
  return {
    reserve(m: number) {
      if (n + m > buf.length) {
        const next = new Uint8Array(Math.max(buf.length * 2, n + m));
        next.set(buf.subarray(0, n));
        buf = next;
      }
      return { bytes: buf, at: n };
    },
    advance(m: number) {
      n += m;
    },
    bytes: () => buf.subarray(0, n),
  };
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
