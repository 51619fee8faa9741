/**
 * What a job over a bucket counts: one key, every object under a prefix, a list of
 * keys, or what a manifest upload (`input/NAME.manifest.json`) names. Listing pages
 * through any number of keys; everything is resolved to sizes and versions before the
 * job id is known, so the id changes whenever any object does.
 */
import { parsePayload } from '../../contracts/parse.js';
import { type JobOptions, type Manifest, ManifestSchema } from '../../contracts/requests.js';
import { InvalidPayloadError, messageOf, ObjectNotFoundError, UsageError } from '../../errors.js';
import { type InputName, inputEtag, isExcludedFromListing, isManifestKey } from '../../keys.js';
import type { SourceObject } from '../../plan.js';
import type { ObjectStore } from '../../ports.js';
import { compareUtf8 } from '../../reduce/order.js';
import { metadataOptions } from './input-options.js';
import { resolveKeys, toSource } from './resolve-keys.js';

/** A manifest bigger than this is not a manifest (a million keys fit in far less). */
export const MAX_MANIFEST_BYTES = 128 * 1024 * 1024;

export interface ResolvedInput {
  /** Decides the output keys and goes into the job id. */
  name: InputName;
  /** For the summary and messages: s3://bucket/key or …/prefix. */
  uri: string;
  /** In key order, each once. */
  objects: SourceObject[];
  /** What the upload asks of its job: a manifest's options, an object's metadata. */
  options: JobOptions;
}

function sortUnique(objects: SourceObject[]): SourceObject[] {
  const seen = new Set<string>();
  return objects
    .filter((o) => !seen.has(o.key) && seen.add(o.key))
    .sort((a, b) => compareUtf8(a.key, b.key));
}

/** Every object under `prefix` but what the system writes and manifests; none is an error. */
export async function listPrefix(store: ObjectStore, prefix: string): Promise<SourceObject[]> {
  const objects: SourceObject[] = [];
  for await (const info of store.list(prefix)) {
    if (!isExcludedFromListing(info.key)) objects.push(toSource(info));
  }
  if (objects.length === 0) {
    throw new ObjectNotFoundError(store.uri(prefix), 'no objects under this prefix');
  }
  return sortUnique(objects);
}

export async function readManifest(store: ObjectStore, key: string): Promise<Manifest> {
  const uri = store.uri(key);
  const { size } = await store.head(key);
  if (size > MAX_MANIFEST_BYTES) {
    throw new UsageError(
      `${uri}: a manifest of ${size} bytes is over the ${MAX_MANIFEST_BYTES}-byte limit`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(await store.get(key)));
  } catch (error) {
    throw new UsageError(`${uri}: a manifest must be JSON: ${messageOf(error)}`, { cause: error });
  }
  try {
    return parsePayload(ManifestSchema, value, 'manifest');
  } catch (error) {
    if (error instanceof InvalidPayloadError) throw new UsageError(`${uri}: ${error.message}`);
    throw error;
  }
}

export async function resolveInput(store: ObjectStore, name: InputName): Promise<ResolvedInput> {
  switch (name.kind) {
    case 'key': {
      const uri = store.uri(name.key);
      if (!isManifestKey(name.key)) {
        const info = await store.head(name.key);
        return {
          name,
          uri,
          objects: [toSource(info)],
          options: metadataOptions(uri, info.metadata),
        };
      }
      const { prefix, keys, ...options } = await readManifest(store, name.key);
      const objects =
        prefix !== undefined
          ? await listPrefix(store, prefix)
          : await resolveKeys(store, keys ?? []);
      return { name, uri, objects, options };
    }
    case 'prefix':
      return {
        name,
        uri: store.uri(name.prefix),
        objects: await listPrefix(store, name.prefix),
        options: {},
      };
    case 'keys':
      return {
        name,
        uri:
          name.keys.length === 1
            ? store.uri(name.keys[0] as string)
            : `${store.uri(name.keys[0] as string)} and ${name.keys.length - 1} more key(s)`,
        objects: await resolveKeys(store, name.keys),
        options: {},
      };
  }
}

/**
 * The input's version now: a digest of every object's key and ETag, resolved as admission
 * resolved it (one HEAD, a prefix's listing, a key list's listings and HEADs), so a job
 * never publishes over a newer version, with requests that grow with listing pages.
 */
export async function currentVersion(store: ObjectStore, name: InputName): Promise<string> {
  return inputEtag((await resolveInput(store, name)).objects);
}
