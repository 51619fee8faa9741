/** The counter use case: read one range through the store and count it. */
import type { CountRequest, CountResult } from './contracts.js';
import { RangeCounter, readStartFor } from './count.js';
import type { ObjectStore } from './ports.js';

/** Pieces read while finishing the last token past the range's end are kept small. */
const OVERRUN_PIECE_SIZE = 64 * 1024;

export async function countRange(store: ObjectStore, request: CountRequest): Promise<CountResult> {
  const started = performance.now();
  const { start, end } = request.range;
  const counter = new RangeCounter(request.mode, start, end);
  for await (const piece of store.readRange(request.key, {
    start: readStartFor(start),
    end,
    ifMatch: request.etag,
  })) {
    counter.feed(piece);
    if (counter.done) break;
  }
  if (!counter.done) {
    for await (const piece of store.readRange(request.key, {
      start: end,
      pieceSize: OVERRUN_PIECE_SIZE,
      ifMatch: request.etag,
    })) {
      counter.feed(piece);
      if (counter.done) break;
    }
  }
  const counts = counter.finish();
  return {
    index: request.range.index,
    ...counts,
    elapsedMs: performance.now() - started,
  };
}
