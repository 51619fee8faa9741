/**
 * Bytes [start, end) of something read in blocks of `blockBytes`, each block its own
 * bounded read (no connection idles while a slow consumer works), the next block read
 * while one is used. A failure surfaces when its block is awaited.
 */
export async function* readAhead(
  read: (start: number, end: number) => Promise<Uint8Array>,
  start: number,
  end: number,
  blockBytes: number,
): AsyncGenerator<Uint8Array> {
  const readFrom = (from: number) => {
    const block = read(from, Math.min(end, from + blockBytes));
    // Read ahead: a failure surfaces when the block is awaited, not as an unhandled rejection.
    block.catch(() => undefined);
    return block;
  };
  let next = start < end ? readFrom(start) : undefined;
  try {
    for (let from = start; from < end; from += blockBytes) {
      const block = await (next as Promise<Uint8Array>);
      const following = from + blockBytes;
      next = following < end ? readFrom(following) : undefined;
      yield block;
    }
  } finally {
    // A consumer that stopped early leaves one read in flight; its result is unwanted.
    await next?.catch(() => undefined);
  }
}
