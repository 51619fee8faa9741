/**
 * Reading a byte range of a plain text object into the kernel, with the range
 * protocol's look-behind and overrun (whole objects and records: record-slices.ts).
 * Each piece is fed to a RangeCounter counting into the task's current table; the
 * feeder may swap that table (a spill) between pieces.
 */
import { RangeCounter, readStartFor } from '../../kernel/range-counter.js';
import type { TaskCounts } from '../../kernel/task-counts.js';
import type { Slice } from '../../plan.js';
import type { ObjectStore } from '../../ports.js';
import type { Mode } from '../../tokenize.js';

/** Pieces read while finishing the last token past the range's end are kept small. */
const OVERRUN_PIECE_SIZE = 64 * 1024;
const MAX_OVERRUN_SPAN = 8 * 1024 * 1024;

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
