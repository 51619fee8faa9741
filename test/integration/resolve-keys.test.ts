/**
 * A key list resolved by listing on real files: the same objects a HEAD per key gives,
 * with the requests S3 would bill, counted by the file store's request meter.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lib/adapters/file-store.js';
import { RequestMeter } from '../../lib/cost/request-meter.js';
import { ObjectNotFoundError } from '../../lib/errors.js';
import { currentVersion } from '../../lib/job/request/inputs.js';
import {
  LISTING_RULE,
  type ListingRule,
  resolveKeys,
  toSource,
} from '../../lib/job/request/resolve-keys.js';
import { inputEtag } from '../../lib/keys.js';
import type { SourceObject } from '../../lib/plan.js';
import type { ObjectStore } from '../../lib/ports.js';
import { compareUtf8 } from '../../lib/reduce/order.js';

let root: string;
let n = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'wordcount-resolve-'));
});

/** A folder of its own for each test (and each property run). */
const folder = () => `t${n++}/`;

async function write(keys: readonly string[]): Promise<void> {
  for (const key of keys) {
    await mkdir(dirname(join(root, key)), { recursive: true });
    await writeFile(join(root, key), `${key}\n`.repeat(1 + (key.length % 3)));
  }
}

const numbered = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(4, '0')}.txt`);

/** The oracle: what a HEAD per key gave before (each key once, in UTF-8 key order). */
async function headEach(store: ObjectStore, keys: readonly string[]): Promise<SourceObject[]> {
  const objects = [];
  for (const key of new Set(keys)) objects.push(toSource(await store.head(key)));
  return objects.sort((a, b) => compareUtf8(a.key, b.key));
}

/** Resolves `keys` on a fresh metered store: the objects and the requests, by type. */
async function measured(keys: readonly string[], rule?: ListingRule) {
  const meter = new RequestMeter();
  const objects = await resolveKeys(new FileObjectStore(root, { meter }), keys, rule);
  const { 's3:ListObjectsV2': list = 0, 's3:HeadObject': head = 0 } = meter.snapshot();
  return { objects, list, head };
}

/** Rules small enough that a few dozen keys reach every turn: pages, runs, gaps, budget. */
const SMALL_RULE: ListingRule = { pageKeys: 4, keysPerPage: 2, runKeys: 12, gapKeys: 2 };

describe('resolveKeys', () => {
  it('gives the objects a HEAD per key gives, or fails on a missing key naming it', async () => {
    const segment = fc.constantFrom('a', 'b', 'a b', 'é', '\u{1f600}', '0', '10', 'a-b', 'z');
    const path = fc
      .tuple(fc.array(segment, { maxLength: 3 }), segment)
      .map(([dirs, name]) => [...dirs, `${name}.txt`].join('/'));
    const world = fc.record({
      files: fc.uniqueArray(path, { minLength: 1, maxLength: 60 }),
      picks: fc.array(fc.nat(), { maxLength: 80 }),
      missing: fc.array(path, { maxLength: 2 }),
      rule: fc.constantFrom(SMALL_RULE, LISTING_RULE, { ...SMALL_RULE, gapKeys: 100 }),
    });
    await fc.assert(
      fc.asyncProperty(world, async ({ files, picks, missing, rule }) => {
        const base = folder();
        const store = new FileObjectStore(root);
        await write(files.map((f) => base + f));
        const absent = missing.filter((m) => !files.includes(m)).map((m) => base + m);
        // Duplicates on purpose: picks reach the same files more than once.
        const wanted = [...picks.map((p) => base + files[p % files.length]), ...absent];
        if (absent.length > 0) {
          const error = await resolveKeys(store, wanted, rule).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(ObjectNotFoundError);
          expect(absent.some((key) => String(error).includes(store.uri(key)))).toBe(true);
          return;
        }
        expect(await resolveKeys(store, wanted, rule)).toEqual(await headEach(store, wanted));
      }),
      { numRuns: 60 },
    );
  });

  it('resolves 5,000 keys of one folder in 5 listing pages and no HEAD', async () => {
    const keys = numbered(`${folder()}crawl/`, 5000);
    await write(keys);
    const { objects, list, head } = await measured([...keys].reverse());
    expect(objects).toEqual(await headEach(new FileObjectStore(root), keys));
    expect({ list, head }).toEqual({ list: 5, head: 0 });
  });

  it('HEADs a sparse pick from a big folder, at most one listing page more than HEADs', async () => {
    const keys = numbered(`${folder()}big/`, 5000);
    await write(keys);
    // 50 keys, 10 to a page: under the 16 a page must find, so one page, then HEADs.
    const sparse = keys.filter((_, i) => i % 100 === 0);
    expect(await measured(sparse)).toMatchObject({ list: 1, head: 40 });
    // Fewer than a page must find: HEADs only.
    const few = keys.filter((_, i) => i % 500 === 0);
    expect(await measured(few)).toMatchObject({ list: 0, head: 10 });
  });

  it('jumps a stretch of unwanted keys between two wanted folders', async () => {
    const base = folder();
    const first = numbered(`${base}a/`, 2000);
    const last = numbered(`${base}z/`, 2000);
    await write([...first, ...numbered(`${base}m/`, 3000), ...last]);
    // 2 pages of a/, 1 that finds only m/, then a listing from z/'s first key: 2 pages.
    const { objects, list, head } = await measured([...first, ...last]);
    expect(objects.map((o) => o.key)).toEqual([...first, ...last]);
    expect({ list, head }).toEqual({ list: 5, head: 0 });
  });

  it('HEADs only the key the listing did not show, and fails naming it', async () => {
    const keys = numbered(`${folder()}some/`, 100);
    await write(keys);
    const missing = keys[50]?.replace('.txt', '-gone.txt') as string;
    const meter = new RequestMeter();
    const store = new FileObjectStore(root, { meter });
    await expect(resolveKeys(store, [...keys, missing])).rejects.toThrow(ObjectNotFoundError);
    await expect(resolveKeys(new FileObjectStore(root), [...keys, missing])).rejects.toThrow(
      `${store.uri(missing)}: no such file`,
    );
    expect(meter.snapshot()).toEqual({ 's3:ListObjectsV2': 1, 's3:HeadObject': 1 });
  });
});

describe("a manifest's version check before publishing", () => {
  it('is the digest of every key and ETag, in listing pages, and changes with any object', async () => {
    const base = folder();
    const keys = numbered(`${base}crawl/`, 5000);
    await write(keys);
    const manifest = `input/${base.slice(0, -1)}-crawl.manifest.json`;
    await new FileObjectStore(root).put(manifest, JSON.stringify({ keys }));
    const meter = new RequestMeter();
    const store = new FileObjectStore(root, { meter });
    const name = { kind: 'key', key: manifest } as const;
    const version = await currentVersion(store, name);
    expect(version).toBe(inputEtag(await headEach(new FileObjectStore(root), keys)));
    // The manifest's HEAD and GET, then listing pages: no HEAD per key.
    expect(meter.snapshot()).toEqual({
      's3:HeadObject': 1,
      's3:GetObject': 1,
      's3:ListObjectsV2': 5,
    });
    await writeFile(join(root, keys[1234] as string), 'a newer version, longer than before\n');
    expect(await currentVersion(store, name)).not.toBe(version);
    expect(await currentVersion(store, { kind: 'keys', keys: keys.slice(0, 1234) })).toBe(
      inputEtag(await headEach(store, keys.slice(0, 1234))),
    );
  });
});
