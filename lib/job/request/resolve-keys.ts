/**
 * A list of keys (a manifest's, a `keys` input's) resolved to sizes and versions with
 * requests that grow with the listing pages they span where the keys are dense, and with
 * the keys where they are sparse: never a HEAD per key of a million-key crawl.
 *
 * The wanted keys, sorted by UTF-8 bytes as S3 lists them, are cut into runs. A run is
 * listed from just before its first key (S3's StartAfter) under the prefix its keys
 * share, and a listed object whose key is wanted answers for it: the same key, size and
 * ETag a HEAD gives (the contract suite holds every store to that). The listing goes on
 * while its pages pay for themselves: each page after the first must have found
 * `keysPerPage` wanted keys on average. A page that ended in a stretch of unwanted keys
 * is followed by a new listing from just before the next wanted key, which skips what
 * lies between. Whatever the listing did not show is HEADed, and the HEAD decides: a
 * missing key fails with its HEAD's error, naming it.
 *
 * So a run costs at most one request more than HEADs would, and its pages at most its
 * keys / keysPerPage + 1; a run whose keys are all its listing holds costs its pages.
 */
import { mapLimit } from '../../concurrency.js';
import type { SourceObject } from '../../plan.js';
import type { ObjectInfo, ObjectStore } from '../../ports.js';
import { compareUtf8 } from '../../reduce/order.js';

/** When a listing answers for wanted keys instead of their HEADs. */
export interface ListingRule {
  /** Keys in a page of ListObjectsV2 (and of the file store, as it counts its pages). */
  pageKeys: number;
  /** What a page must find on average to be worth its request. */
  keysPerPage: number;
  /** Wanted keys in a run; runs are listed side by side. */
  runKeys: number;
  /** A page whose last this-many keys were all unwanted ended in a gap: jump over it. */
  gapKeys: number;
}

export const LISTING_RULE: Readonly<ListingRule> = Object.freeze({
  pageKeys: 1000,
  // A LIST costs as much as 12.5 HEADs (S3: $0.005 and $0.0004 per 1,000), and HEADs
  // run 16 at a time: a page that finds 16 wanted keys is cheaper and no slower.
  keysPerPage: 16,
  // A dense run in about 4 pages, so a million keys list 250 runs 16 at a time.
  runKeys: 4000,
  gapKeys: 500,
});
const LIST_CONCURRENCY = 16;
const HEAD_CONCURRENCY = 16;

export function toSource(info: ObjectInfo): SourceObject {
  return { key: info.key, uri: info.uri, size: info.size, etag: info.etag };
}

/**
 * Every key once, in UTF-8 key order, with the size and ETag a HEAD of it gives (what a
 * HEAD per key gave before: the same objects, so the same job id and input version).
 */
export async function resolveKeys(
  store: ObjectStore,
  keys: readonly string[],
  rule: Readonly<ListingRule> = LISTING_RULE,
): Promise<SourceObject[]> {
  const wanted = [...new Set(keys)].sort(compareUtf8);
  const runs: string[][] = [];
  for (let i = 0; i < wanted.length; i += rule.runKeys) {
    runs.push(wanted.slice(i, i + rule.runKeys));
  }
  const listed = await mapLimit(runs, LIST_CONCURRENCY, (run) => listRun(store, run, rule));
  const unlisted = listed.flatMap((r) => r.unlisted);
  const headed = await mapLimit(unlisted, HEAD_CONCURRENCY, async (key) =>
    toSource(await store.head(key)),
  );
  return [...listed.flatMap((r) => r.found), ...headed].sort((a, b) => compareUtf8(a.key, b.key));
}

interface ListedRun {
  found: SourceObject[];
  /** Keys the listing did not show (missing, or not worth listing for): HEAD decides. */
  unlisted: string[];
}

/** `run` is sorted and unique. */
async function listRun(
  store: ObjectStore,
  run: readonly string[],
  rule: Readonly<ListingRule>,
): Promise<ListedRun> {
  const found: SourceObject[] = [];
  const unlisted: string[] = [];
  // Fewer keys than a page must find: their HEADs cost less than any listing.
  if (run.length < rule.keysPerPage) return { found, unlisted: [...run] };
  const last = run[run.length - 1] as string;
  let next = 0; // run[next] is the first key neither found nor left to HEAD
  let pages = 0;
  while (next < run.length && found.length >= rule.keysPerPage * pages) {
    const first = run[next] as string;
    const startAfter = keyBefore(first);
    let seen = 0;
    let sinceFound = 0;
    let stopped = false;
    pages++;
    for await (const info of store.list(commonPrefix(first, last), { startAfter })) {
      // A wanted key that sorts before what is listed now was not listed.
      while (next < run.length && compareUtf8(run[next] as string, info.key) < 0) {
        unlisted.push(run[next++] as string);
      }
      if (run[next] === info.key) {
        found.push(toSource(info));
        next++;
        sinceFound = 0;
      } else sinceFound++;
      if (next === run.length) {
        stopped = true;
        break;
      }
      if (++seen % rule.pageKeys === 0) {
        // The next page costs a request: taken only within budget and past no gap.
        if (found.length < rule.keysPerPage * pages || sinceFound >= rule.gapKeys) {
          stopped = true;
          break;
        }
        pages++;
      }
    }
    // A listing that ran out passed every key it could show.
    if (!stopped) break;
  }
  unlisted.push(...run.slice(next));
  return { found, unlisted };
}

/**
 * A key just before `key` in UTF-8 order, for an exclusive StartAfter: its last
 * character one lower. Only keys that extend that lie between, and listing one of them
 * costs a listed key, never an answer.
 */
export function keyBefore(key: string): string | undefined {
  const characters = [...key];
  const last = characters.pop()?.codePointAt(0);
  if (last === undefined) return undefined;
  const head = characters.join('');
  if (last === 0) return head === '' ? undefined : head;
  // One lower, stepping over the surrogates, which no UTF-8 key holds.
  return head + String.fromCodePoint(last === 0xe000 ? 0xd7ff : last - 1);
}

/** The longest prefix of whole characters that `a` and `b` share. */
export function commonPrefix(a: string, b: string): string {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  const before = a.charCodeAt(i - 1);
  // Never half a surrogate pair: S3 would read it as U+FFFD.
  if (i > 0 && before >= 0xd800 && before <= 0xdbff) i--;
  return a.slice(0, i);
}
