/**
 * Reading a byte range of a plain object: from a few bytes before it (whatever the
 * reader needs to see where its first token or line starts) to its end, then past its
 * end in bounded pieces until the reader's last owned token or line ends. Text ranges
 * feed a RangeCounter counting into the task's current table (the feeder may swap that
 * table, a spill, between pieces); JSON Lines ranges (record-slices.ts) feed a reader.
 */
import { RangeCounter, readStartFor } from '../../kernel/range-counter.js';
import type { Feeder } from '../../kernel/task-counts.js';
import type { Slice } from '../../plan.js';
import type { ObjectStore } from '../../ports.js';
import type { Mode } from '../../tokenize.js';

/** Pieces read while finishing the last token past the range's end are kept small. */
const OVERRUN_PIECE_SIZE = 64 * 1024;
const MAX_OVERRUN_SPAN = 8 * 1024 * 1024;

/**
 * Feeds `feed` the bytes of `slice` from `from` to the range's end, then past it until
 * `done()`: bounded requests (64 KiB, doubling up to 8 MiB for a long token or line)
 * rather than one read to the object's end. Stops early once `done()`, and when the
 * object ends.
 */
export async function readRange(
  store: ObjectStore,
  slice: Slice,
  from: number,
  feed: (piece: Uint8Array) => Promise<void>,
  done: () => boolean,
): Promise<void> {
  const read = { ifMatch: slice.etag };
  for await (const piece of store.readRange(slice.key, { start: from, end: slice.end, ...read })) {
    await feed(piece);
    if (done()) return;
  }
  let at = slice.end;
  let span = OVERRUN_PIECE_SIZE;
  while (!done()) {
    let got = 0;
    for await (const piece of store.readRange(slice.key, { start: at, end: at + span, ...read })) {
      got += piece.length;
      await feed(piece);
      if (done()) break;
    }
    if (got === 0) return; // the object ended
    at += got;
    span = Math.min(span * 2, MAX_OVERRUN_SPAN);
  }
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
  // Retarget and feed in one synchronous step: a spill by another slice in between
  // would otherwise swap the counts out from under this piece.
  const feed = async (piece: Uint8Array) => {
    counter.retarget(feeder.counts());
    counter.feed(piece);
    await feeder.afterPiece();
  };
  await readRange(store, slice, readStartFor(start), feed, () => counter.done);
  counter.retarget(feeder.counts());
  counter.endInput();
  return end - start;
}
