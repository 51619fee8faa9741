/** JSON objects in an object store: the ledger's records, pointers and leases. */
import { ObjectNotFoundError } from './errors.js';
import type { ObjectStore } from './ports.js';

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** The JSON value stored at `key`; undefined when there is no such object. */
export async function readJson(store: ObjectStore, key: string): Promise<unknown | undefined> {
  return (await readJsonVersion(store, key))?.value;
}

/** The JSON value at `key` and the etag of what was read (the If-Match of a compare-and-swap). */
export async function readJsonVersion(
  store: ObjectStore,
  key: string,
): Promise<{ value: unknown; etag: string } | undefined> {
  try {
    const { body, etag } = await store.getVersion(key);
    return { value: JSON.parse(decoder.decode(body)), etag };
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}

/** Writes `value` as JSON; with `ifNoneMatch`, only if there is nothing at `key` yet. */
export async function writeJson(
  store: ObjectStore,
  key: string,
  value: unknown,
  options: { ifNoneMatch?: boolean; ifMatch?: string; pretty?: boolean } = {},
): Promise<{ etag: string }> {
  const { pretty, ...conditions } = options;
  return store.put(key, JSON.stringify(value, null, pretty ? 2 : undefined), {
    contentType: 'application/json',
    ...conditions,
  });
}
