/**
 * Runs `fn` over `items` with at most `limit` calls in flight. Each call gets its own
 * item (no shared loop variable). On the first failure no new call starts; the ones in
 * flight are awaited and the first error is rethrown.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  async function lane(): Promise<void> {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  }
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane);
  await Promise.all(lanes);
  if (failure !== undefined) throw failure.error;
  return results;
}

/**
 * `read(0)`, `read(1)`, ... `read(count - 1)`, yielded in order with at most `window`
 * reads in flight: a consumer holds at most `window` results at once, however many
 * there are. A failure surfaces when its result is awaited.
 */
export async function* inOrder<R>(
  count: number,
  window: number,
  read: (index: number) => Promise<R>,
): AsyncGenerator<R> {
  const ahead: Promise<R>[] = [];
  let next = 0;
  const fill = () => {
    while (next < count && ahead.length < Math.max(1, window)) {
      const p = read(next++);
      p.catch(() => undefined);
      ahead.push(p);
    }
  };
  try {
    fill();
    while (ahead.length > 0) {
      const result = await (ahead.shift() as Promise<R>);
      fill();
      yield result;
    }
  } finally {
    // A consumer that stopped early leaves reads in flight; their results are unwanted.
    await Promise.all(ahead.map((p) => p.catch(() => undefined)));
  }
}
