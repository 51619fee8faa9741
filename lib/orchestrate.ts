/**
 * The orchestrator use case: one counting job per uploaded object version, exactly
 * once. S3 notifications and async invokes can arrive twice; the job id depends only
 * on the object version and options, a finished job is answered from its output, and
 * of two concurrent duplicates one loses the `If-None-Match` claim and stops. Output is
 * published only when every range was counted: counts first, summary last.
 */
import { parseSize } from './chunks.js';
import {
  type JobStatus,
  JobStatusSchema,
  parsePayload,
  type Summary,
  SummarySchema,
} from './contracts.js';
import {
  JobFailedError,
  messageOf,
  ObjectNotFoundError,
  PreconditionFailedError,
} from './errors.js';
import { runCountJob } from './job.js';
import { claimKey, countsKey, jobIdFor, partialsPrefix, statusKey, summaryKey } from './keys.js';
import type { FunctionRunner, ObjectStore } from './ports.js';
import { countsTsv, forEachEntry, sortCounts, topCounts } from './reduce.js';
import type { Mode } from './tokenize.js';

/** Top words in the published summary; a direct invocation may ask for another number. */
export const PUBLISHED_TOP = 20;

/** Hash partitions of a spilled partial: partition p of every range holds the same words. */
export const SPILL_PARTITIONS = 16;

/** Inline results stay well under Lambda's 6 MB synchronous payload limit. */
export const INLINE_RESULT_LIMIT_BYTES = 4 * 1024 * 1024;

export interface OrchestratorDeps {
  store: ObjectStore;
  bucket: string;
  runner: FunctionRunner;
  counterFunction: string;
  concurrency: number;
  defaultChunkSize: number;
  inlineLimitBytes?: number;
  /**
   * A claim older than this belongs to an invocation that died (timed out, crashed)
   * without recording the outcome; a new trigger may take it over. Longer than the
   * orchestrator's longest run (Lambda's 15 minutes).
   */
  claimTtlMs?: number;
  now?: () => Date;
  log?: (message: string) => void;
}

export interface JobRequestOptions {
  key: string;
  mode?: Mode;
  chunkSize?: number | string;
  top?: number;
}

export type JobOutcome =
  | { outcome: 'published'; jobId: string; summary: Summary }
  | { outcome: 'already-published'; jobId: string; summary: Summary }
  | { outcome: 'claimed-elsewhere'; jobId: string };

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

async function readJson(store: ObjectStore, key: string): Promise<unknown | undefined> {
  try {
    return JSON.parse(decoder.decode(await store.get(key)));
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}

function toTop(rows: readonly (readonly [string, number])[]): Summary['top'] {
  return rows.map(([word, count]) => ({ word, count }));
}

/** The summary with `top` words: cut from its own list, or read from the head of the counts file. */
async function withTop(
  store: ObjectStore,
  summary: Summary,
  countsKey: string,
  top: number | undefined,
): Promise<Summary> {
  if (top === undefined || top === summary.top.length) return summary;
  if (top < summary.top.length || summary.top.length === summary.distinctWords) {
    return { ...summary, top: summary.top.slice(0, top) };
  }
  const rows: [string, number][] = [];
  const streaming = new TextDecoder('utf-8', { ignoreBOM: true });
  let text = '';
  for await (const piece of store.readRange(countsKey, { start: 0, pieceSize: 1 << 16 })) {
    text += streaming.decode(piece, { stream: true });
    const complete = text.lastIndexOf('\n') + 1;
    forEachEntry(text.slice(0, complete), (word, count) => {
      if (rows.length < top) rows.push([word, count]);
    });
    text = text.slice(complete);
    if (rows.length >= top) break;
  }
  return { ...summary, top: toTop(rows) };
}

export const DEFAULT_CLAIM_TTL_MS = 16 * 60 * 1000;

/** Replaces a claim older than the TTL (or any, with `force`), atomically: of several takers one wins. */
async function takeOverClaim(
  deps: OrchestratorDeps,
  jobId: string,
  claim: string,
  now: Date,
  force: boolean,
): Promise<boolean> {
  const key = claimKey(jobId);
  let etag: string;
  let claimedAt: number;
  try {
    etag = (await deps.store.head(key)).etag;
    const held = JSON.parse(decoder.decode(await deps.store.get(key))) as { claimedAt?: string };
    claimedAt = Date.parse(held.claimedAt ?? '');
  } catch (error) {
    // Released between our attempt and this look: the next trigger will find it free.
    if (error instanceof ObjectNotFoundError) return false;
    throw error;
  }
  if (!force && !(now.getTime() - claimedAt > (deps.claimTtlMs ?? DEFAULT_CLAIM_TTL_MS)))
    return false;
  try {
    await deps.store.put(key, claim, { ifMatch: etag, contentType: 'application/json' });
    return true;
  } catch (error) {
    // Another taker won, or the holder released it: either way it is not ours.
    if (error instanceof PreconditionFailedError || error instanceof ObjectNotFoundError)
      return false;
    throw error;
  }
}

export async function runJobOnce(
  deps: OrchestratorDeps,
  request: JobRequestOptions,
): Promise<JobOutcome> {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  const mode = request.mode ?? 'words';
  const chunkSize =
    typeof request.chunkSize === 'string'
      ? parseSize(request.chunkSize)
      : (request.chunkSize ?? deps.defaultChunkSize);
  const info = await store.head(request.key);
  const jobId = jobIdFor({
    bucket: deps.bucket,
    key: request.key,
    etag: info.etag,
    mode,
    chunkSize,
  });
  const output = { summary: summaryKey(request.key), counts: countsKey(request.key) };

  // A finished job answers from its output, as long as that output is still its own:
  // output/ is per input key, so a later job with other options may have replaced it.
  let superseded = false;
  const previous = await readJson(store, statusKey(jobId));
  if (previous !== undefined) {
    const status = parsePayload(JobStatusSchema, previous, `status of job ${jobId}`);
    if (status.state === 'succeeded') {
      const published = await readJson(store, output.summary);
      const summary = published === undefined ? undefined : SummarySchema.safeParse(published).data;
      if (
        summary !== undefined &&
        summary.mode === mode &&
        summary.source.etag === info.etag &&
        summary.stats.chunkSize === chunkSize
      ) {
        return {
          outcome: 'already-published',
          jobId,
          summary: await withTop(store, summary, output.counts, request.top),
        };
      }
      superseded = true;
    }
  }

  const claim = JSON.stringify({ jobId, claimedAt: now().toISOString() });
  try {
    await store.put(claimKey(jobId), claim, { ifNoneMatch: true, contentType: 'application/json' });
  } catch (error) {
    if (!(error instanceof PreconditionFailedError)) throw error;
    // A finished job's claim is taken over at once when its output was replaced since.
    if (!(await takeOverClaim(deps, jobId, claim, now(), superseded))) {
      deps.log?.(
        `job ${jobId} for ${store.uri(request.key)} is claimed by another invocation; stopping`,
      );
      return { outcome: 'claimed-elsewhere', jobId };
    }
    deps.log?.(`job ${jobId}: took over its claim (${superseded ? 'output replaced' : 'stale'})`);
  }

  const status: JobStatus = {
    jobId,
    state: 'running',
    source: { bucket: deps.bucket, key: request.key, etag: info.etag, bytes: info.size },
    mode,
    chunkSize,
    updatedAt: now().toISOString(),
    ranges: [],
  };
  const writeStatus = () => {
    status.updatedAt = now().toISOString();
    return store.put(statusKey(jobId), JSON.stringify(status, null, 2), {
      contentType: 'application/json',
    });
  };

  let result: Awaited<ReturnType<typeof runCountJob>>;
  try {
    result = await runCountJob(
      {
        store,
        runner: deps.runner,
        counterFunction: deps.counterFunction,
        onChunk: (range) => {
          const entry = status.ranges[range.index];
          if (entry) entry.counted = true;
        },
      },
      request.key,
      {
        mode,
        chunkSize,
        concurrency: deps.concurrency,
        top: PUBLISHED_TOP,
        bucket: deps.bucket,
        spill: {
          prefix: partialsPrefix(jobId),
          inlineLimitBytes: deps.inlineLimitBytes ?? INLINE_RESULT_LIMIT_BYTES,
          partitions: SPILL_PARTITIONS,
        },
        onPlan: ({ ranges }) => {
          status.ranges = ranges.map((r) => ({ ...r, counted: false }));
          return writeStatus();
        },
      },
    );
    // Counts first, summary last: a reader that sees the summary finds the counts.
    await store.put(output.counts, countsTsv(sortCounts(result.counts)), {
      contentType: 'text/tab-separated-values',
    });
    await store.put(output.summary, `${JSON.stringify(result.summary, null, 2)}\n`, {
      contentType: 'application/json',
    });
  } catch (error) {
    status.state = 'failed';
    status.reason = messageOf(error);
    await writeStatus().catch((e: unknown) =>
      deps.log?.(`job ${jobId}: could not record failure: ${messageOf(e)}`),
    );
    // Release the claim so a later trigger (a retry, a re-upload) may try again.
    await store
      .delete(claimKey(jobId))
      .catch((e: unknown) =>
        deps.log?.(`job ${jobId}: could not release its claim: ${messageOf(e)}`),
      );
    throw new JobFailedError(
      `job ${jobId} for ${store.uri(request.key)} failed: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
  // Published. If this last write fails the invocation fails, but the job is not marked
  // failed: its output is complete, and a retry finds the claim and stops.
  const { summary, counts } = result;
  status.state = 'succeeded';
  status.output = output;
  await writeStatus();
  deps.log?.(`job ${jobId}: published ${store.uri(output.summary)} (${summary.totalWords} words)`);
  const top = request.top === undefined ? summary.top : toTop(topCounts(counts, request.top));
  return { outcome: 'published', jobId, summary: { ...summary, top } };
}
