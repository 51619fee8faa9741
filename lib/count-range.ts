/** The counter use case: read one range through the store, count it, return or spill. */
import type { CountRequest, CountResult } from './contracts.js';
import { RangeCounter, readStartFor } from './count.js';
import { partialKey } from './keys.js';
import type { ObjectStore } from './ports.js';
import { forEachEntry } from './reduce.js';

/** Pieces read while finishing the last token past the range's end are kept small. */
const OVERRUN_PIECE_SIZE = 64 * 1024;
const MAX_OVERRUN_SPAN = 8 * 1024 * 1024;

export async function countRange(store: ObjectStore, request: CountRequest): Promise<CountResult> {
  const started = performance.now();
  const { start, end } = request.range;
  const counter = new RangeCounter(request.mode, start, end);
  const read = { ifMatch: request.etag };
  for await (const piece of store.readRange(request.key, {
    start: readStartFor(start),
    end,
    ...read,
  })) {
    counter.feed(piece);
    if (counter.done) break;
  }
  // Past the end, read only until the last owned token ends: bounded requests (64 KiB,
  // doubling up to 8 MiB for a long token) rather than one read to the object's end.
  let from = end;
  let span = OVERRUN_PIECE_SIZE;
  while (!counter.done) {
    let got = 0;
    for await (const piece of store.readRange(request.key, {
      start: from,
      end: from + span,
      ...read,
    })) {
      got += piece.length;
      counter.feed(piece);
      if (counter.done) break;
    }
    if (got === 0) break; // the object ended
    from += got;
    span = Math.min(span * 2, MAX_OVERRUN_SPAN);
  }
  const { entries, ...stats } = counter.finish();
  const result: CountResult = { index: request.range.index, entries, ...stats, elapsedMs: 0 };
  result.elapsedMs = performance.now() - started;
  if (request.spill === undefined) return result;
  // Measured, not guessed: the JSON that would travel back.
  const inlineBytes = Buffer.byteLength(JSON.stringify(result));
  if (inlineBytes <= request.spill.inlineLimitBytes) return result;
  const { prefix, partitions } = request.spill;
  const keys = await spill(store, prefix, request.range.index, entries, partitions);
  return {
    ...stats,
    index: request.range.index,
    spilled: { keys, bytes: Buffer.byteLength(entries) },
    elapsedMs: performance.now() - started,
  };
}

/** Writes entries hash-partitioned by word, so partition p of every range can be reduced together. */
async function spill(
  store: ObjectStore,
  prefix: string,
  index: number,
  entries: string,
  partitions: number,
): Promise<string[]> {
  const parts: string[][] = Array.from({ length: partitions }, () => []);
  forEachEntry(entries, (word, count) => {
    (parts[partitionOf(word, partitions)] as string[]).push(`${word}\t${count}\n`);
  });
  const keys = parts.map((_, p) => partialKey(prefix, index, p));
  await Promise.all(parts.map((lines, p) => store.put(keys[p] as string, lines.join(''))));
  return keys;
}

/** FNV-1a over UTF-16 units: stable across processes, which is all partitioning needs. */
export function partitionOf(word: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 16777619);
  return (h >>> 0) % partitions;
}
