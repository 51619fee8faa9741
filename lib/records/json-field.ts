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
import {
  BACKSLASH,
  beginLine,
  decodeString,
  NotJson,
  QUOTE,
  skipString,
  type TextSink,
} from './json-strings.js';

export type FieldRead =
  | { kind: 'text' }
  /** Only whitespace: not a record. */
  | { kind: 'blank' }
  | { kind: 'invalid'; reason: string };

const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
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
    beginLine(bytes, s, end);
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
