/**
 * Finalize: the k-way merge of the reduce tasks' sorted shards into the one counts
 * file, in memory bounded by the number of shards, not by the vocabulary. A big output
 * is merged in parallel: the shards' samples split output order into ranges of about
 * equal bytes, finalize tasks merge one range each into a part, and the parts are
 * concatenated in order. A small one is merged by the driver itself.
 */
import type { FinalizeRequest, FinalizeResult, Shard, ShardSample } from '../../contracts/tasks.js';
import type { ObjectStore } from '../../ports.js';
import { type Bound, mergeShards } from '../../reduce/merge-shards.js';
import { compareCounts } from '../../reduce/order.js';
import { peakRssBytes } from '../../rss.js';
import { readBlocks } from './read-spans.js';

/** All shards' read blocks together stay about this size... */
const READ_BUDGET_BYTES = 64 * 1024 * 1024;
/** ...within these bounds per block. */
const MIN_BLOCK = 256 * 1024;
const MAX_BLOCK = 8 * 1024 * 1024;
/** A finalize task merges at least this much of the output: less is not worth a task. */
export const FINALIZE_MIN_BYTES = 32 * 1024 * 1024;

export interface CountsTarget {
  store: ObjectStore;
  key: string;
}

const encoder = new TextEncoder();

function blockFor(shards: number): number {
  return Math.min(
    MAX_BLOCK,
    Math.max(MIN_BLOCK, Math.floor(READ_BUDGET_BYTES / Math.max(1, shards))),
  );
}

function bound(place: { count: number; word: string } | undefined): Bound | undefined {
  return place && { count: place.count, key: encoder.encode(place.word) };
}

/** Merges the lines in [from, to) of `windows` (byte windows of sorted shards) into pieces. */
function mergeWindows(
  work: ObjectStore,
  windows: readonly { key: string; start: number; end: number }[],
  range: { from?: Bound; to?: Bound } = {},
): AsyncGenerator<Uint8Array> {
  const block = blockFor(windows.length);
  const sources = windows
    .filter((w) => w.end > w.start)
    .map((w) => ({
      name: work.uri(w.key),
      pieces: readBlocks(work, w.key, w.end - w.start, block, w.start),
    }));
  return mergeShards(sources, range);
}

/** Puts `pieces` with `put`; returns how many bytes went. */
async function written(
  pieces: AsyncIterable<Uint8Array>,
  put: (body: AsyncIterable<Uint8Array>) => Promise<unknown>,
): Promise<number> {
  let bytes = 0;
  await put(
    (async function* () {
      for await (const piece of pieces) {
        bytes += piece.length;
        yield piece;
      }
    })(),
  );
  return bytes;
}

/** The finalize task: one range of output order, merged into a part. */
export async function runFinalizeTask(
  work: ObjectStore,
  request: FinalizeRequest,
): Promise<FinalizeResult> {
  const started = performance.now();
  const pieces = mergeWindows(work, request.shards, {
    from: bound(request.from),
    to: bound(request.to),
  });
  const bytes = await written(pieces, (body) =>
    work.put(request.partKey, body, { contentType: 'text/tab-separated-values' }),
  );
  return {
    type: 'finalize',
    index: request.index,
    part: { key: request.partKey, bytes },
    elapsedMs: performance.now() - started,
    maxRssBytes: peakRssBytes(),
  };
}

export interface FinalizePlan {
  from?: ShardSample;
  to?: ShardSample;
  shards: { key: string; start: number; end: number }[];
}

/**
 * Splits output order into at most `tasks` ranges of about equal bytes at sample
 * lines, and finds for each range and shard the byte window that holds its lines: from
 * the shard's last sample before the range to its first sample at or after the range's
 * end. Pure.
 */
export function planFinalize(shards: readonly Shard[], tasks: number): FinalizePlan[] {
  const samples = shards.flatMap((shard) =>
    shard.samples.map((sample, j) => ({
      ...sample,
      bytes: (shard.samples[j + 1]?.offset ?? shard.bytes) - sample.offset,
    })),
  );
  samples.sort(compareCounts);
  const total = samples.reduce((sum, x) => sum + x.bytes, 0);
  const splitters: ShardSample[] = [];
  let acc = 0;
  for (const sample of samples) {
    if (splitters.length < tasks - 1 && acc >= (total * (splitters.length + 1)) / tasks) {
      splitters.push(sample);
    }
    acc += sample.bytes;
  }
  const ranges = [undefined, ...splitters].map((from, t) => ({ from, to: splitters[t] }));
  return ranges.map(({ from, to }) => ({
    from,
    to,
    shards: shards.map((shard) => {
      let start = 0;
      let end = shard.bytes;
      for (const sample of shard.samples) {
        if (from && compareCounts(sample, from) < 0) start = sample.offset;
        if (to && compareCounts(sample, to) >= 0) {
          end = sample.offset;
          break;
        }
      }
      return { key: shard.key, start, end: Math.max(start, end) };
    }),
  }));
}

/** Writes the merge of `shards` (in `work`) to `target` in this process; returns the bytes written. */
export async function mergeIntoTarget(
  work: ObjectStore,
  shards: readonly Shard[],
  target: CountsTarget,
): Promise<number> {
  const pieces = mergeWindows(
    work,
    shards.map((s) => ({ key: s.key, start: 0, end: s.bytes })),
  );
  return written(pieces, (body) =>
    target.store.put(target.key, body, { contentType: 'text/tab-separated-values' }),
  );
}

/** Writes the concatenation of `parts` (in `work`) to `target`, in order. */
export async function concatenateParts(
  work: ObjectStore,
  parts: readonly { key: string; bytes: number }[],
  target: CountsTarget,
): Promise<number> {
  const pieces = (async function* () {
    for (const part of parts) yield* readBlocks(work, part.key, part.bytes, MAX_BLOCK);
  })();
  return written(pieces, (body) =>
    target.store.put(target.key, body, { contentType: 'text/tab-separated-values' }),
  );
}
