/** Reading known byte spans of the work store: map outputs and shards. */
import { MalformedPartialError } from '../../errors.js';
import type { ObjectStore } from '../../ports.js';

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
 * bounded read (no connection idles while a slow consumer works), the next read ahead.
 */
export async function* readBlocks(
  store: ObjectStore,
  key: string,
  size: number,
  blockBytes: number,
  offset = 0,
): AsyncGenerator<Uint8Array> {
  const read = (start: number) => {
    const block = readSpan(store, key, offset + start, offset + Math.min(size, start + blockBytes));
    // Read ahead: a failure surfaces when the block is awaited, not as an unhandled rejection.
    block.catch(() => undefined);
    return block;
  };
  let next = size > 0 ? read(0) : undefined;
  try {
    for (let start = 0; start < size; start += blockBytes) {
      const block = await (next as Promise<Uint8Array>);
      const following = start + blockBytes;
      next = following < size ? read(following) : undefined;
      yield block;
    }
  } finally {
    // A consumer that stopped early leaves one read in flight; its result is unwanted.
    await next?.catch(() => undefined);
  }
}
