/**
 * The counting job over the two ports: plan byte ranges from the object's size, fan
 * the ranges out to counter functions, reduce their partials. The CLI runs it on the
 * embedded backend and the orchestrator Lambda on S3 + Lambda, unchanged.
 */

import { autoChunkSize, type ByteRange, planRanges } from './chunks.js';
import { mapLimit } from './concurrency.js';
import {
  type CountRequest,
  type CountResult,
  CountResultSchema,
  parsePayload,
  type Summary,
} from './contracts.js';
import { TOKEN_CAP_BYTES } from './count.js';
import { JobFailedError, messageOf } from './errors.js';
import type { FunctionRunner, ObjectStore } from './ports.js';
import { mergeEntries, topCounts } from './reduce.js';
import type { Mode } from './tokenize.js';

// ignoreBOM keeps a word that starts with U+FEFF intact at the start of a partition file.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

export interface JobOptions {
  mode: Mode;
  /** Bytes per range; chosen from the size and concurrency when absent. */
  chunkSize?: number;
  /** Counter invocations in flight at once. */
  concurrency: number;
  top: number;
  /** The bucket counters read from (S3 backends). */
  bucket?: string;
  /** Payload budget: counters spill bigger results under this prefix. */
  spill?: CountRequest['spill'];
  /** Called once the ranges are planned, before any is counted. */
  onPlan?: (plan: { chunkSize: number; ranges: readonly ByteRange[] }) => Promise<void> | void;
}

export interface JobProgress {
  chunksDone: number;
  chunks: number;
  bytesDone: number;
  bytes: number;
}

export interface JobDeps {
  store: ObjectStore;
  runner: FunctionRunner;
  /** Name the runner knows the counter function by. */
  counterFunction: string;
  onProgress?: (progress: JobProgress) => void;
  /** Called as each range's result is merged. */
  onChunk?: (range: ByteRange, result: CountResult) => void;
}

export interface JobResult {
  summary: Summary;
  counts: Map<string, number>;
}

export async function runCountJob(
  deps: JobDeps,
  key: string,
  options: JobOptions,
): Promise<JobResult> {
  const started = performance.now();
  const info = await deps.store.head(key);
  const chunkSize = options.chunkSize ?? autoChunkSize(info.size, options.concurrency);
  const ranges = planRanges(info.size, chunkSize);
  await options.onPlan?.({ chunkSize, ranges });
  const progress: JobProgress = {
    chunksDone: 0,
    chunks: ranges.length,
    bytesDone: 0,
    bytes: info.size,
  };
  deps.onProgress?.({ ...progress });

  const counts = new Map<string, number>();
  let totalWords = 0;
  let invalidSequences = 0;
  let longTokens = 0;
  let bytesScanned = 0;
  const reduce = async (result: CountResult): Promise<void> => {
    if (result.entries !== undefined) mergeEntries(counts, result.entries);
    for (const spilled of result.spilled?.keys ?? []) {
      mergeEntries(counts, decoder.decode(await deps.store.get(spilled)));
    }
    totalWords += result.tokens;
    invalidSequences += result.invalidSequences;
    longTokens += result.longTokens;
    bytesScanned += result.bytesScanned;
  };

  // Merging runs off the lanes' path, one partial at a time: a lane dispatches its next
  // range before the main thread merges the result it just got.
  let merging: Promise<void> = Promise.resolve();
  let mergeFailure: { error: unknown } | undefined;
  // The runner bounds how many counters run (pool size, Lambda semaphore); the job keeps
  // twice that many requests queued, so a counter that finishes finds its next range
  // waiting instead of idling while this thread parses and merges.
  const counting = mapLimit(ranges, options.concurrency * 2, async (range) => {
    // A partial that could not be merged fails the job: count nothing more.
    if (mergeFailure) throw mergeFailure.error;
    const request: CountRequest = {
      bucket: options.bucket,
      key,
      etag: info.etag,
      mode: options.mode,
      range,
      spill: options.spill,
    };
    let result: CountResult;
    try {
      const reply = await deps.runner.invoke(deps.counterFunction, request);
      result = parsePayload(CountResultSchema, reply, 'count result');
    } catch (error) {
      throw new JobFailedError(
        `counting ${info.uri} failed at chunk ${range.index} (bytes ${range.start}-${range.end - 1}): ${messageOf(error)}`,
        { cause: error },
      );
    }
    merging = merging
      .then(async () => {
        if (mergeFailure) return;
        await reduce(result);
        deps.onChunk?.(range, result);
        progress.chunksDone++;
        progress.bytesDone += range.end - range.start;
        deps.onProgress?.({ ...progress });
      })
      .catch((error: unknown) => {
        // Recorded here, so no rejection goes unhandled while other ranges count.
        mergeFailure ??= {
          error: new JobFailedError(
            `merging ${info.uri} failed at chunk ${range.index}: ${messageOf(error)}`,
            { cause: error },
          ),
        };
      });
  });
  try {
    await counting;
  } finally {
    await merging;
  }
  if (mergeFailure) throw mergeFailure.error;

  const summary: Summary = {
    source: { uri: info.uri, bytes: info.size, etag: info.etag },
    mode: options.mode,
    totalWords,
    distinctWords: counts.size,
    chunks: ranges.length,
    top: topCounts(counts, options.top).map(([word, count]) => ({ word, count })),
    elapsedMs: Math.round(performance.now() - started),
    invalidSequences,
    longTokens,
    stats: {
      chunkSize,
      concurrency: options.concurrency,
      tokenCapBytes: TOKEN_CAP_BYTES,
      bytesScanned,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
    },
  };
  return { summary, counts };
}
