/**
 * A counting job, driven by one process (the RPC coordination): plan the map tasks,
 * run them through the task function with bounded concurrency, then reduce. The CLI
 * runs it on the embedded backend, the orchestrator Lambda on S3 + Lambda, unchanged.
 *
 * Reduce, two ways. Small partials come back inline and the driver merges them in one
 * count table: for a small vocabulary that is faster than any shuffle. When a partial
 * is too big to travel, or the driver's table outgrows INLINE_MAX_DISTINCT, the job
 * goes partitioned: every map output is in the work store in P hash partitions, R
 * reduce tasks each merge a run of partitions into a sorted shard, and finalize
 * merges the shards into the counts file. Then no process holds every distinct word.
 */
import { mapLimit } from '../concurrency.js';
import type { Summary } from '../contracts.js';
import { JobFailedError, messageOf } from '../errors.js';
import { TOKEN_CAP_BYTES } from '../kernel/range-counter.js';
import { autoChunkSize, checkChunkSize, needsPeek, planTasks, type SourceObject } from '../plan.js';
import type { ObjectStore } from '../ports.js';
import { sortTable } from '../reduce/merge-partials.js';
import { mergeTop } from '../reduce/order.js';
import { choosePartitions } from '../reduce/partition.js';
import { sortedLines } from '../reduce/sort-entries.js';
import { peakRssBytes } from '../rss.js';
import { type JobContext, type JobDeps, type JobSpec, report, startPhase } from './context.js';
import { INLINE_MAX_DISTINCT, runMapPhase } from './map-phase.js';
import { runFinalizePhase, runReducePhase } from './reduce-phase.js';
import { topOf } from './reduce-task.js';

export type { JobDeps, JobProgress, JobSpec } from './context.js';
export { INLINE_MAX_DISTINCT } from './map-phase.js';

/** Objects whose first bytes are read at once, to tell gzip from text. */
const PEEK_CONCURRENCY = 16;

/** Reads the first bytes of objects too big for one task: gzip ones are not split. */
async function peekGzip(
  store: ObjectStore,
  objects: readonly SourceObject[],
  chunkSize: number,
): Promise<SourceObject[]> {
  return mapLimit(objects, PEEK_CONCURRENCY, async (object) => {
    if (!needsPeek(object, chunkSize)) return object;
    const head: number[] = [];
    for await (const piece of store.readRange(object.key, {
      start: 0,
      end: 2,
      ifMatch: object.etag,
    })) {
      head.push(...piece);
    }
    return { ...object, gzip: head[0] === 0x1f && head[1] === 0x8b };
  });
}

/** Runs the job; spilled partials, shards and parts stay under `spec.workPrefix` for the caller to remove. */
export async function runJob(deps: JobDeps, spec: JobSpec): Promise<Summary> {
  const startedAt = spec.startedAt ?? performance.now();
  const bytes = spec.objects.reduce((sum, o) => sum + o.size, 0);
  const chunkSize = spec.chunkSize ?? autoChunkSize(bytes, spec.concurrency);
  checkChunkSize(chunkSize);
  const tasks = planTasks(await peekGzip(deps.sources, spec.objects, chunkSize), chunkSize);
  const partitions = choosePartitions(bytes);
  await spec.onPlan?.({ chunkSize, partitions, tasks });
  const planned = performance.now();

  const ctx: JobContext = {
    deps,
    spec,
    chunkSize,
    partitions,
    progress: { phase: 'map', tasksDone: 0, tasks: tasks.length, bytesDone: 0, bytes },
  };
  report(ctx);
  const reduce = spec.reduce ?? 'auto';
  const map = await runMapPhase(
    ctx,
    tasks,
    { inline: Number.MAX_SAFE_INTEGER, partitioned: 0, auto: spec.inlineLimitBytes }[reduce],
    reduce === 'inline'
      ? Number.POSITIVE_INFINITY
      : (spec.inlineMaxDistinct ?? INLINE_MAX_DISTINCT),
  );
  const mapped = performance.now();
  let reduced = mapped;

  let distinct: number;
  let top: Summary['top'];
  let reduceTasks = 0;
  let maxRssBytes = map.maxRssBytes;
  if (map.parts.length === 0 && reduce !== 'partitioned') {
    const sorted = sortTable(map.inline.table);
    distinct = map.inline.table.size;
    top = topOf(sortedLines(sorted, { limit: spec.top }));
    if (spec.counts) {
      startPhase(ctx, 'finalize', 1);
      await spec.counts.store.put(spec.counts.key, sortedLines(sorted), {
        contentType: 'text/tab-separated-values',
      });
    }
  } else {
    await map.inline.spill();
    const results = await runReducePhase(ctx, map.parts);
    reduced = performance.now();
    reduceTasks = results.length;
    const sum = results.reduce((n, r) => n + r.tokens, 0);
    if (sum !== map.tokens) {
      throw new JobFailedError(
        `the reduce tasks hold ${sum} words but the map tasks counted ${map.tokens}: a partial was lost`,
      );
    }
    distinct = results.reduce((n, r) => n + r.distinct, 0);
    top = mergeTop(
      results.map((r) => r.top),
      spec.top,
    );
    for (const r of results) maxRssBytes = Math.max(maxRssBytes, r.maxRssBytes);
    if (spec.counts) {
      const shards = results.flatMap((r) => (r.shard ? [r.shard] : []));
      try {
        maxRssBytes = Math.max(maxRssBytes, await runFinalizePhase(ctx, shards, spec.counts));
      } catch (error) {
        throw new JobFailedError(
          `writing ${spec.counts.store.uri(spec.counts.key)} failed: ${messageOf(error)}`,
          { cause: error },
        );
      }
    }
  }

  return {
    source: { uri: spec.source.uri, bytes, etag: spec.source.etag },
    sources: { objects: spec.objects.length, bytes },
    mode: spec.mode,
    totalWords: map.tokens,
    distinctWords: distinct,
    chunks: tasks.length,
    top,
    elapsedMs: Math.round(performance.now() - startedAt),
    invalidSequences: map.invalidSequences,
    longTokens: map.longTokens,
    stats: {
      chunkSize,
      concurrency: spec.concurrency,
      tokenCapBytes: TOKEN_CAP_BYTES,
      bytesScanned: map.bytesScanned,
      uncompressedBytes: map.uncompressedBytes,
      mapTasks: tasks.length,
      partitions,
      reduceTasks,
      maxRssBytes: Math.max(maxRssBytes, peakRssBytes()),
      phasesMs: {
        plan: Math.round(planned - startedAt),
        map: Math.round(mapped - planned),
        reduce: Math.round(reduced - mapped),
        publish: Math.round(performance.now() - reduced),
      },
    },
  };
}
