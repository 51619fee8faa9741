/** Reading known byte spans of the work store: map outputs and shards. */
import { MalformedPartialError } from '../../errors.js';
import type { ObjectStore } from '../../ports.js';
import { readAhead } from '../../read-ahead.js';

/** Bytes [start, end) of `key`, which must all be there. */
export async function readSpan(
  store: ObjectStore,
  key: string,
  start: number,
  end: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(end - start);
  let o = 0;
  for await (const piece of store.readRange(key, { start, end })) {
    if (o + piece.length > out.length) break;
    out.set(piece, o);
    o += piece.length;
  }
  if (o !== out.length) {
    throw new MalformedPartialError(
      `${store.uri(key)}: expected bytes ${start}-${end - 1}, got ${o} byte(s)`,
    );
  }
  return out;
}

/**
 * The `size` bytes of `key` from `offset` as blocks of `blockBytes`, each its own
 * bounded read, the next read ahead.
 */
export function readBlocks(
  store: ObjectStore,
  key: string,
  size: number,
  blockBytes: number,
  offset = 0,
): AsyncGenerator<Uint8Array> {
  const read = (start: number, end: number) => readSpan(store, key, start, end);
  return readAhead(read, offset, offset + size, blockBytes);
}
