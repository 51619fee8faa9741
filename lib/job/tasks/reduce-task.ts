/**
 * The reduce task: merges its partitions of every spilled map output (named in its
 * request, or in the job's index of them), sorts them (count descending, then UTF-8 bytes) and writes them as one shard,
 * returning the partitions' totals and most frequent words. Its memory is its share of
 * the vocabulary: the partitions' bytes, never the whole job's. A word's count here is
 * final (no other task holds it), so `minCount` prunes the shard and the top exactly.
 */
import { mapLimit } from '../../concurrency.js';
import type { ReduceRequest, ReduceResult, ShardSample } from '../../contracts/tasks.js';
import type { ObjectStore } from '../../ports.js';
import { mergePartials } from '../../reduce/merge-partials.js';
import { topOf } from '../../reduce/order.js';
import { keptOf, sortEntries, sortedLines } from '../../reduce/sort-entries.js';
import { peakRssBytes } from '../../rss.js';
import { readIndexChunk } from './parts-index.js';
import { readSpan } from './read-spans.js';

/** Map outputs fetched at once. */
const FETCH_CONCURRENCY = 32;
/** A shard is sampled about this often. */
const SAMPLE_BYTES = 256 * 1024;

export async function runReduceTask(
  work: ObjectStore,
  request: ReduceRequest,
): Promise<ReduceResult> {
  const started = performance.now();
  const [from, to] = request.partitions;
  const indexed = await mapLimit(request.partsIndex ?? [], FETCH_CONCURRENCY, (chunk) =>
    readIndexChunk(work, chunk, from, to),
  );
  const inputs = [...request.inputs, ...indexed.flat()].filter(
    (i) => (i.offsets.at(-1) as number) > (i.offsets[0] as number),
  );
  const runs = await mapLimit(inputs, FETCH_CONCURRENCY, async (input) => {
    const start = input.offsets[0] as number;
    return {
      bytes: await readSpan(work, input.key, start, input.offsets.at(-1) as number),
      offsets: input.offsets.map((o) => o - start),
      name: work.uri(input.key),
      base: start,
    };
  });
  const { list, tokens } = mergePartials(runs, from, to, request.docFreq);
  const sorted = sortEntries(list);
  const { minCount } = request;
  let shard: ReduceResult['shard'];
  if (request.shardKey !== undefined) {
    let written = 0;
    const samples: ShardSample[] = [];
    // Every piece starts a line: its first one is a sample for the parallel finalize.
    const counted = function* () {
      for (const piece of sortedLines(sorted, { pieceBytes: SAMPLE_BYTES, minCount })) {
        const [first] = topOf([piece.subarray(0, piece.indexOf(10) + 1)]);
        if (first) samples.push({ offset: written, ...first });
        written += piece.length;
        yield piece;
      }
    };
    await work.put(request.shardKey, counted(), { contentType: 'text/tab-separated-values' });
    shard = { key: request.shardKey, bytes: written, samples };
  }
  return {
    type: 'reduce',
    index: request.index,
    distinct: list.size,
    kept: keptOf(sorted, minCount),
    tokens,
    top: topOf(sortedLines(sorted, { limit: request.top, minCount })),
    shard,
    elapsedMs: performance.now() - started,
    maxRssBytes: peakRssBytes(),
  };
}
