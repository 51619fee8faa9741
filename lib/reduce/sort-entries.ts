/**
 * Entries in output order (count descending, then key bytes ascending) and their
 * `key\tcount\n` lines. Entries are grouped by count first. Within a group, fast keys
 * are sorted as big-endian 64-bit integers: by the engine's native typed-array sort,
 * about ten times faster than sorting strings, or in a big group (the words seen once
 * of a big vocabulary) by a radix sort, two to three times faster again. General keys
 * (longer, or holding NUL) are sorted natively by their first 5 bytes, then by a byte
 * comparator where those tie. The two lists are merged as the lines are written.
 */
import { writeDecimal } from './count-table.js';
import type { EntryList } from './entry-list.js';
import { radixSort64 } from './radix-sort.js';

const TAB = 9;
const NEWLINE = 10;
/** Counts below this are tallied in arrays; the rare bigger ones in a map. */
const SMALL = 65536;
/** Index bits beside the 5-byte prefix in a sort value of the general list. */
const INDEX_BITS = 24;
/** Fast keys in a group this big or bigger are radix sorted; fewer, by the native sort. */
const RADIX_MIN = 1 << 16;

export interface CountGroup {
  count: number;
  /** [start, end) in `fast` (entries of two u32). */
  fastStart: number;
  fastEnd: number;
  /** [start, end) in `general` (entry numbers of the list). */
  generalStart: number;
  generalEnd: number;
}

export interface SortedEntries {
  list: EntryList;
  groups: CountGroup[];
  /** Fast keys in output order. */
  fast: Uint32Array;
  /** General entries in output order. */
  general: Int32Array;
}

/** Next free place per count, in the fast and the general list. */
class Cursors {
  private readonly small = [new Int32Array(SMALL), new Int32Array(SMALL)] as const;
  private readonly big = new Map<number, [number, number]>();

  tally(count: number, kind: 0 | 1): void {
    if (count < SMALL) this.small[kind][count] = (this.small[kind][count] as number) + 1;
    else {
      const entry = this.big.get(count) ?? [0, 0];
      entry[kind]++;
      this.big.set(count, entry);
    }
  }

  /** Turns the tallies into group starts; returns the groups, biggest count first. */
  place(): CountGroup[] {
    const groups: CountGroup[] = [];
    const at = [0, 0];
    const add = (count: number, nFast: number, nGeneral: number): [number, number] => {
      const start: [number, number] = [at[0] as number, at[1] as number];
      groups.push({
        count,
        fastStart: start[0],
        fastEnd: start[0] + nFast,
        generalStart: start[1],
        generalEnd: start[1] + nGeneral,
      });
      at[0] = start[0] + nFast;
      at[1] = start[1] + nGeneral;
      return start;
    };
    for (const count of [...this.big.keys()].sort((a, b) => b - a)) {
      const [nFast, nGeneral] = this.big.get(count) as [number, number];
      this.big.set(count, add(count, nFast, nGeneral));
    }
    const [fast, general] = this.small;
    for (let c = SMALL - 1; c >= 1; c--) {
      const nFast = fast[c] as number;
      const nGeneral = general[c] as number;
      if (nFast === 0 && nGeneral === 0) continue;
      [fast[c], general[c]] = add(c, nFast, nGeneral);
    }
    return groups;
  }

  /** The next place of `count`'s group in list `kind`, taken. */
  take(count: number, kind: 0 | 1): number {
    if (count < SMALL) {
      const place = this.small[kind][count] as number;
      this.small[kind][count] = place + 1;
      return place;
    }
    const entry = this.big.get(count) as [number, number];
    return entry[kind]++;
  }
}

/** Sorts the entries of `list` into output order (the list must not change afterwards). */
export function sortEntries(list: EntryList): SortedEntries {
  const cursors = new Cursors();
  for (let i = 0; i < list.nFast; i++) cursors.tally(list.fastCounts[i] as number, 0);
  for (let i = 0; i < list.nGeneral; i++) cursors.tally(list.generalCounts[i] as number, 1);
  const groups = cursors.place();
  const fast = new Uint32Array(2 * list.nFast);
  const source = list.fast;
  for (let i = 0; i < list.nFast; i++) {
    const at = cursors.take(list.fastCounts[i] as number, 0);
    fast[2 * at] = source[2 * i] as number;
    fast[2 * at + 1] = source[2 * i + 1] as number;
  }
  const general = new Int32Array(list.nGeneral);
  for (let i = 0; i < list.nGeneral; i++)
    general[cursors.take(list.generalCounts[i] as number, 1)] = i;
  let scratch: Uint32Array | undefined;
  for (const group of groups) {
    const n = group.fastEnd - group.fastStart;
    if (n >= RADIX_MIN) {
      scratch ??= new Uint32Array(2 * maxFastGroup(groups));
      radixSort64(fast.subarray(2 * group.fastStart, 2 * group.fastEnd), scratch);
    } else if (n > 1) {
      new BigUint64Array(fast.buffer, group.fastStart * 8, n).sort();
    }
    if (group.generalEnd - group.generalStart > 1) {
      sortGeneral(list, general.subarray(group.generalStart, group.generalEnd));
    }
  }
  return { list, groups, fast, general };
}

function maxFastGroup(groups: readonly CountGroup[]): number {
  let most = 0;
  for (const g of groups) most = Math.max(most, g.fastEnd - g.fastStart);
  return most;
}

function compareGeneral(list: EntryList, x: number, y: number): number {
  const arena = list.arena;
  const ox = list.generalOffsets[x] as number;
  const oy = list.generalOffsets[y] as number;
  const lx = list.generalLengths[x] as number;
  const ly = list.generalLengths[y] as number;
  const m = Math.min(lx, ly);
  for (let k = 0; k < m; k++) {
    const d = (arena[ox + k] as number) - (arena[oy + k] as number);
    if (d !== 0) return d;
  }
  return lx - ly;
}

/** Byte k of general entry i, 0 past its end. */
function generalByte(list: EntryList, i: number, k: number): number {
  return k < (list.generalLengths[i] as number)
    ? (list.arena[(list.generalOffsets[i] as number) + k] as number)
    : 0;
}

/** Sorts general entry numbers by key bytes: natively by 5-byte prefix, then ties by comparator. */
function sortGeneral(list: EntryList, entries: Int32Array): void {
  const n = entries.length;
  if (n >= 1 << INDEX_BITS) {
    // Too many to tag with an index: the plain comparator sort (slow, still exact).
    entries.set(Array.from(entries).sort((x, y) => compareGeneral(list, x, y)));
    return;
  }
  const values = new Uint32Array(n * 2);
  for (let j = 0; j < n; j++) {
    const e = entries[j] as number;
    const b = (k: number) => generalByte(list, e, k);
    values[2 * j + 1] = ((b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3)) >>> 0;
    values[2 * j] = ((b(4) << INDEX_BITS) | j) >>> 0;
  }
  new BigUint64Array(values.buffer).sort();
  const original = entries.slice();
  for (let j = 0; j < n; j++) entries[j] = original[(values[2 * j] as number) & 0xffffff] as number;
  // Runs with the same 5-byte prefix are ordered by all their bytes.
  for (let j = 0; j < n; ) {
    let end = j + 1;
    while (
      end < n &&
      values[2 * end + 1] === values[2 * j + 1] &&
      (values[2 * end] as number) >>> INDEX_BITS === (values[2 * j] as number) >>> INDEX_BITS
    )
      end++;
    if (end - j > 1) {
      const run = Array.from(entries.subarray(j, end)).sort((x, y) => compareGeneral(list, x, y));
      entries.set(run, j);
    }
    j = end;
  }
}

/** Entries counted at least `minCount` times: the groups before the first below it. */
export function keptOf(sorted: SortedEntries, minCount = 1): number {
  let kept = 0;
  for (const group of sorted.groups) {
    if (group.count < minCount) break;
    kept += group.fastEnd - group.fastStart + group.generalEnd - group.generalStart;
  }
  return kept;
}

/**
 * The `key\tcount\n` lines of `sorted` (`key\tcount\tdocs\n` when the list has
 * document counts), in pieces of about `pieceBytes`; with `limit`,
 * only the first `limit` lines; with `minCount`, only the lines of a count at least that
 * (counts descend: they end at the first group below it).
 */
export function* sortedLines(
  sorted: SortedEntries,
  options: { pieceBytes?: number; limit?: number; minCount?: number } = {},
): Generator<Uint8Array> {
  const { list, fast, general } = sorted;
  const arena = list.arena;
  const pieceBytes = options.pieceBytes ?? 1 << 20;
  const minCount = options.minCount ?? 1;
  let left = options.limit ?? Number.POSITIVE_INFINITY;
  let out = new Uint8Array(pieceBytes + 64);
  let o = 0;
  const countText = new Uint8Array(24);
  for (const group of sorted.groups) {
    if (left <= 0 || group.count < minCount) break;
    const countLen = writeDecimal(group.count, countText, 0);
    let fi = group.fastStart;
    let gi = group.generalStart;
    // The general head's first 8 bytes, zero-padded, big-endian.
    let gHi = 0;
    let gLo = 0;
    const loadGeneral = () => {
      const e = general[gi] as number;
      const b = (k: number) => generalByte(list, e, k);
      gHi = ((b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3)) >>> 0;
      gLo = ((b(4) << 24) | (b(5) << 16) | (b(6) << 8) | b(7)) >>> 0;
    };
    if (gi < group.generalEnd) loadGeneral();
    while ((fi < group.fastEnd || gi < group.generalEnd) && left > 0) {
      left--;
      const hasFast = fi < group.fastEnd;
      const hi = hasFast ? (fast[2 * fi + 1] as number) : 0;
      const lo = hasFast ? (fast[2 * fi] as number) : 0;
      // Equal first 8 bytes: the fast key is a prefix of the general one, so it goes first.
      const takeFast = hasFast && (gi >= group.generalEnd || hi < gHi || (hi === gHi && lo <= gLo));
      const keyLength = takeFast ? 8 : (list.generalLengths[general[gi] as number] as number);
      // Room for a document count too (a third column: at most 16 digits and a tab).
      if (o + keyLength + countLen + 20 > out.length) {
        if (o > 0) yield out.subarray(0, o);
        out = new Uint8Array(Math.max(pieceBytes, keyLength + countLen + 20) + 64);
        o = 0;
      }
      let docs = -1;
      if (takeFast) {
        // No NUL inside a fast key: its first zero byte ends it.
        for (let k = 24; k >= 0 && (hi >>> k) & 0xff; k -= 8) out[o++] = (hi >>> k) & 0xff;
        if ((hi & 0xff) !== 0)
          for (let k = 24; k >= 0 && (lo >>> k) & 0xff; k -= 8) out[o++] = (lo >>> k) & 0xff;
        fi++;
      } else {
        const e = general[gi] as number;
        const from = list.generalOffsets[e] as number;
        out.set(arena.subarray(from, from + keyLength), o);
        o += keyLength;
        if (list.generalDocs) docs = list.generalDocs[e] as number;
        gi++;
        if (gi < group.generalEnd) loadGeneral();
      }
      out[o++] = TAB;
      for (let k = 0; k < countLen; k++) out[o++] = countText[k] as number;
      if (docs >= 0) {
        out[o++] = TAB;
        o = writeDecimal(docs, out, o);
      }
      out[o++] = NEWLINE;
    }
  }
  if (o > 0) yield out.subarray(0, o);
}
