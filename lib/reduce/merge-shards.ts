/**
 * The k-way merge of sorted shards into one counts file. Each shard is `key\tcount\n`
 * lines in output order (count descending, then key bytes ascending) and comes as a
 * stream of byte pieces; no two shards hold the same key (they are hash partitions).
 * Lines are compared and copied as bytes, never decoded, and memory is a piece per
 * shard plus one output piece: bounded by the number of shards, not the vocabulary.
 */
import { MalformedPartialError } from '../errors.js';

const TAB = 9;
const NEWLINE = 10;

/** The current line of one shard. */
class Cursor {
  buf: Uint8Array = new Uint8Array(0);
  /** Current line: key at [start, tab), the whole line at [start, end). */
  start = 0;
  tab = 0;
  end = 0;
  count = 0;
  /** The key's first 8 bytes, big-endian, zero-padded: nearly every comparison ends here. */
  prefix = 0;
  prefix2 = 0;
  done = false;

  constructor(
    private readonly pieces: AsyncIterator<Uint8Array>,
    readonly name: string,
  ) {}

  /** Moves to the next line; false when it is not wholly in the buffer yet. */
  advance(): boolean {
    const buf = this.buf;
    const n = buf.length;
    const start = this.end;
    let tab = start;
    while (tab < n && buf[tab] !== TAB) tab++;
    let count = 0;
    let j = tab + 1;
    for (; j < n; j++) {
      const d = (buf[j] as number) - 48;
      if (d < 0 || d > 9) break;
      count = count * 10 + d;
    }
    // --doc-freq: the word's documents follow as a third column, copied as they are.
    let docs = -1;
    if (j < n && buf[j] === TAB && j > tab + 1) {
      docs = j + 1;
      while (j + 1 < n && (buf[j + 1] as number) >= 48 && (buf[j + 1] as number) <= 57) j++;
      j++;
    }
    if (j >= n) return false;
    if (tab === start || buf[j] !== NEWLINE || j === tab + 1 || j === docs) {
      throw new MalformedPartialError(`${this.name}: malformed line in a sorted shard`);
    }
    this.start = start;
    this.tab = tab;
    this.end = j + 1;
    this.count = count;
    const len = tab - start;
    if (len >= 8) {
      this.prefix = wordAt(buf, start);
      this.prefix2 = wordAt(buf, start + 4);
    } else {
      this.prefix = len >= 4 ? wordAt(buf, start) : prefixOf(buf, start, len);
      this.prefix2 = len > 4 ? prefixOf(buf, start + 4, len - 4) : 0;
    }
    return true;
  }

  /** Stops reading the shard: it has no more lines this merge wants. */
  async close(): Promise<void> {
    this.done = true;
    await this.pieces.return?.();
  }

  /** Reads until the next line is complete (or the shard ends). */
  async load(): Promise<void> {
    for (;;) {
      if (this.advance()) return;
      const { value, done } = await this.pieces.next();
      const rest = this.buf.subarray(this.end);
      if (done) {
        if (rest.length > 0) {
          throw new MalformedPartialError(`${this.name}: ends inside a line`);
        }
        this.done = true;
        return;
      }
      if (rest.length === 0) this.buf = value;
      else {
        const joined = new Uint8Array(rest.length + value.length);
        joined.set(rest);
        joined.set(value, rest.length);
        this.buf = joined;
      }
      this.end = 0;
    }
  }
}

/** Bytes [at, at + 4) of `buf`, big-endian. */
function wordAt(buf: Uint8Array, at: number): number {
  return (
    (((buf[at] as number) << 24) |
      ((buf[at + 1] as number) << 16) |
      ((buf[at + 2] as number) << 8) |
      (buf[at + 3] as number)) >>>
    0
  );
}

/** The first `len` (below 4) bytes from `start`, big-endian, zero-padded. */
function prefixOf(buf: Uint8Array, start: number, len: number): number {
  let p = 0;
  for (let k = 0; k < 4; k++) p = (p << 8) | (k < len ? (buf[start + k] as number) : 0);
  return p >>> 0;
}

/** Negative when a's line goes before b's. */
function compare(a: Cursor, b: Cursor): number {
  if (a.count !== b.count) return b.count - a.count;
  if (a.prefix !== b.prefix) return a.prefix < b.prefix ? -1 : 1;
  if (a.prefix2 !== b.prefix2) return a.prefix2 < b.prefix2 ? -1 : 1;
  const ab = a.buf;
  const bb = b.buf;
  const la = a.tab - a.start;
  const lb = b.tab - b.start;
  const m = la < lb ? la : lb;
  for (let k = 0; k < m; k++) {
    const d = (ab[a.start + k] as number) - (bb[b.start + k] as number);
    if (d !== 0) return d;
  }
  return la - lb;
}

function siftDown(heap: Cursor[], i: number): void {
  const n = heap.length;
  const item = heap[i] as Cursor;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= n) break;
    const right = child + 1;
    if (right < n && compare(heap[right] as Cursor, heap[child] as Cursor) < 0) child = right;
    if (compare(heap[child] as Cursor, item) >= 0) break;
    heap[i] = heap[child] as Cursor;
    i = child;
  }
  heap[i] = item;
}

export interface ShardSource {
  /** Names the shard in errors. */
  name: string;
  pieces: AsyncIterable<Uint8Array>;
}

/** A place in output order: the line of `key` (UTF-8 bytes) with `count`. */
export interface Bound {
  count: number;
  key: Uint8Array;
}

/** Negative when the cursor's line goes before `bound`. */
function compareToBound(c: Cursor, bound: Bound): number {
  if (c.count !== bound.count) return bound.count - c.count;
  const key = bound.key;
  const len = c.tab - c.start;
  const m = len < key.length ? len : key.length;
  for (let k = 0; k < m; k++) {
    const d = (c.buf[c.start + k] as number) - (key[k] as number);
    if (d !== 0) return d;
  }
  return len - key.length;
}

export interface MergeOptions {
  pieceBytes?: number;
  /** Only lines at or after this one (a shard may start earlier: those lines are skipped). */
  from?: Bound;
  /** Only lines before this one (a shard may go on: it is not read further). */
  to?: Bound;
}

/** The merged counts file of `shards`, in pieces of about `pieceBytes`. */
export async function* mergeShards(
  shards: readonly ShardSource[],
  options: MergeOptions = {},
): AsyncGenerator<Uint8Array> {
  const pieceBytes = options.pieceBytes ?? 1 << 20;
  const { from, to } = options;
  // Every shard's first read at once: one after the other, R shards would cost R latencies.
  const cursors = await Promise.all(
    shards.map(async (shard) => {
      const cursor = new Cursor(shard.pieces[Symbol.asyncIterator](), shard.name);
      await cursor.load();
      while (from && !cursor.done && compareToBound(cursor, from) < 0) {
        if (!cursor.advance()) await cursor.load();
      }
      if (to && !cursor.done && compareToBound(cursor, to) >= 0) await cursor.close();
      return cursor;
    }),
  );
  const heap = cursors.filter((c) => !c.done);
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(heap, i);
  let out = new Uint8Array(pieceBytes);
  let o = 0;
  while (heap.length > 0) {
    const top = heap[0] as Cursor;
    const len = top.end - top.start;
    if (o + len > out.length) {
      if (o > 0) yield out.subarray(0, o);
      out = new Uint8Array(Math.max(pieceBytes, len));
      o = 0;
    }
    const buf = top.buf;
    for (let k = top.start; k < top.end; k++) out[o++] = buf[k] as number;
    if (!top.advance()) await top.load();
    if (to && !top.done && compareToBound(top, to) >= 0) await top.close();
    if (top.done) {
      const last = heap.pop() as Cursor;
      if (heap.length === 0) break;
      heap[0] = last;
    }
    siftDown(heap, 0);
  }
  if (o > 0) yield out.subarray(0, o);
}
