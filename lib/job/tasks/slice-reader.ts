/**
 * Reading a map task's slices into the kernel: a byte range of a plain object (with the
 * range protocol's look-behind and overrun), or a whole object, decompressed on the way
 * when it starts with the gzip magic bytes. Each piece is fed to a RangeCounter counting
 * into the task's current table; the feeder may swap that table (a spill) between pieces.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { CorruptInputError } from '../../errors.js';
import { RangeCounter, readStartFor } from '../../kernel/range-counter.js';
import type { TaskCounts } from '../../kernel/task-counts.js';
import type { Slice } from '../../plan.js';
import type { ObjectStore } from '../../ports.js';
import type { Mode } from '../../tokenize.js';

/** Pieces read while finishing the last token past the range's end are kept small. */
const OVERRUN_PIECE_SIZE = 64 * 1024;
const MAX_OVERRUN_SPAN = 8 * 1024 * 1024;
const GZIP_MAGIC = [0x1f, 0x8b] as const;

export interface Feeder {
  /** The counts to add to now (a spill replaces them). */
  counts(): TaskCounts;
  /** Called after each piece: spills when the table is full. */
  afterPiece(): Promise<void> | undefined;
}

/** Counts the tokens that start in [start, end) of a plain object; returns the owned bytes. */
export async function countRange(
  store: ObjectStore,
  slice: Slice,
  mode: Mode,
  feeder: Feeder,
): Promise<number> {
  const { start, end } = slice;
  const counter = new RangeCounter(mode, start, end, feeder.counts());
  const read = { ifMatch: slice.etag };
  // Retarget and feed in one synchronous step: a spill by another slice in between
  // would otherwise swap the counts out from under this piece.
  const feed = async (piece: Uint8Array) => {
    counter.retarget(feeder.counts());
    counter.feed(piece);
    await feeder.afterPiece();
  };
  for await (const piece of store.readRange(slice.key, {
    start: readStartFor(start),
    end,
    ...read,
  })) {
    await feed(piece);
    if (counter.done) break;
  }
  // Past the end, read only until the last owned token ends: bounded requests (64 KiB,
  // doubling up to 8 MiB for a long token) rather than one read to the object's end.
  let from = end;
  let span = OVERRUN_PIECE_SIZE;
  while (!counter.done) {
    let got = 0;
    for await (const piece of store.readRange(slice.key, {
      start: from,
      end: from + span,
      ...read,
    })) {
      got += piece.length;
      await feed(piece);
      if (counter.done) break;
    }
    if (got === 0) break; // the object ended
    from += got;
    span = Math.min(span * 2, MAX_OVERRUN_SPAN);
  }
  counter.retarget(feeder.counts());
  counter.endInput();
  return end - start;
}

/**
 * Counts a whole object, decompressing it on the way when it starts with the gzip magic
 * bytes (whatever its name; concatenated gzip members are one stream). Returns the bytes
 * the kernel saw.
 */
export async function countWhole(
  store: ObjectStore,
  slice: Slice,
  mode: Mode,
  feeder: Feeder,
): Promise<number> {
  // The whole object is the range: every token in it is owned.
  const counter = new RangeCounter(mode, 0, Number.MAX_SAFE_INTEGER, feeder.counts());
  let fed = 0;
  const feed = async (piece: Uint8Array) => {
    fed += piece.length;
    counter.retarget(feeder.counts());
    counter.feed(piece);
    await feeder.afterPiece();
  };
  const pieces = store
    .readRange(slice.key, { start: 0, ifMatch: slice.etag })
    [Symbol.asyncIterator]();
  try {
    await countStream(store, slice, pieces, feed);
  } finally {
    // A failure (corrupt gzip, a spill that could not be written) leaves the read open.
    await pieces.return?.();
  }
  counter.retarget(feeder.counts());
  counter.endInput();
  return fed;
}

/** Feeds the object's bytes, through gunzip when they start with the gzip magic bytes. */
async function countStream(
  store: ObjectStore,
  slice: Slice,
  pieces: AsyncIterator<Uint8Array>,
  feed: (piece: Uint8Array) => Promise<void>,
): Promise<void> {
  // Enough of the start to recognise gzip (a piece may be a single byte).
  let head = new Uint8Array(0);
  let ended = false;
  while (head.length < GZIP_MAGIC.length) {
    const next = await pieces.next();
    if (next.done) {
      ended = true;
      break;
    }
    const joined = new Uint8Array(head.length + next.value.length);
    joined.set(head);
    joined.set(next.value, head.length);
    head = joined;
  }
  const rest = async function* () {
    if (head.length > 0) yield head;
    if (ended) return;
    for (;;) {
      const next = await pieces.next();
      if (next.done) return;
      yield next.value;
    }
  };
  if (head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) {
    try {
      await pipeline(
        Readable.from(rest()),
        createGunzip({ chunkSize: 256 * 1024 }),
        async (stream) => {
          for await (const chunk of stream) await feed(chunk as Uint8Array);
        },
      );
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (!code.startsWith('Z_')) throw error;
      throw new CorruptInputError(
        `${store.uri(slice.key)}: not a valid gzip stream (${(error as Error).message})`,
        { cause: error },
      );
    }
  } else {
    for await (const piece of rest()) await feed(piece);
  }
}
