/**
 * The orchestrator use case: one counting job per input version, exactly once. S3
 * notifications and async invokes can arrive twice; the job id depends only on the
 * objects' versions and the options, a finished job is answered from its output, and
 * of two concurrent duplicates one loses the `If-None-Match` claim and stops. Output is
 * published only when every task succeeded: counts first, summary last.
 */
import { mapLimit } from '../concurrency.js';
import {
  type JobStatus,
  JobStatusSchema,
  parsePayload,
  type Summary,
  SummarySchema,
} from '../contracts.js';
import {
  JobFailedError,
  messageOf,
  ObjectNotFoundError,
  PreconditionFailedError,
} from '../errors.js';
import {
  claimKey,
  type InputName,
  inputEtag,
  jobIdFor,
  jobPrefix,
  outputKeys,
  planKey,
  scratchFolders,
  statusKey,
} from '../keys.js';
import type { FunctionRunner, ObjectStore } from '../ports.js';
import { forEachLine } from '../reduce/order.js';
import { parseSize } from '../sizes.js';
import type { Mode } from '../tokenize.js';
import { resolveInput } from './inputs.js';
import { runJob } from './run-job.js';

/** Top words in the published summary; a direct invocation may ask for another number. */
export const PUBLISHED_TOP = 20;

/** Inline results stay well under Lambda's 6 MB synchronous payload limit. */
export const INLINE_RESULT_LIMIT_BYTES = 4 * 1024 * 1024;

/** Scratch keys deleted at once after publishing. */
const CLEANUP_CONCURRENCY = 16;

export interface OrchestratorDeps {
  store: ObjectStore;
  bucket: string;
  runner: FunctionRunner;
  /** The function that runs map and reduce tasks. */
  taskFunction: string;
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
  input: InputName;
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
  const rows: Summary['top'] = [];
  let carry = new Uint8Array(0);
  for await (const piece of store.readRange(countsKey, { start: 0, pieceSize: 1 << 16 })) {
    const joined = new Uint8Array(carry.length + piece.length);
    joined.set(carry);
    joined.set(piece, carry.length);
    const complete = joined.lastIndexOf(10) + 1;
    forEachLine(
      joined.subarray(0, complete),
      (word, count) => {
        if (rows.length < top) rows.push({ word, count });
      },
      store.uri(countsKey),
    );
    carry = joined.slice(complete);
    if (rows.length >= top) break;
  }
  return { ...summary, top: rows };
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

/** Deletes a finished job's spilled partials and shards; logs what it could not. */
async function removeScratch(deps: OrchestratorDeps, jobId: string): Promise<void> {
  try {
    const keys: string[] = [];
    for (const folder of scratchFolders(jobPrefix(jobId))) {
      for await (const info of deps.store.list(folder)) keys.push(info.key);
    }
    await mapLimit(keys, CLEANUP_CONCURRENCY, (key) => deps.store.delete(key));
  } catch (error) {
    deps.log?.(`job ${jobId}: could not delete its partials: ${messageOf(error)}`);
  }
}

export async function runJobOnce(
  deps: OrchestratorDeps,
  request: JobRequestOptions,
): Promise<JobOutcome> {
  const startedAt = performance.now();
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  const mode = request.mode ?? 'words';
  const chunkSize =
    typeof request.chunkSize === 'string'
      ? parseSize(request.chunkSize)
      : (request.chunkSize ?? deps.defaultChunkSize);
  const input = await resolveInput(store, request.input);
  const etag = inputEtag(input.objects);
  const jobId = jobIdFor({
    bucket: deps.bucket,
    input: input.name,
    objects: input.objects,
    mode,
    chunkSize,
  });
  const output = outputKeys(input.name);

  // A finished job answers from its output, as long as that output is still its own:
  // output/ is per input, so a later job with other options may have replaced it.
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
        summary.source.etag === etag &&
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
      deps.log?.(`job ${jobId} for ${input.uri} is claimed by another invocation; stopping`);
      return { outcome: 'claimed-elsewhere', jobId };
    }
    deps.log?.(`job ${jobId}: took over its claim (${superseded ? 'output replaced' : 'stale'})`);
  }

  const bytes = input.objects.reduce((sum, o) => sum + o.size, 0);
  const status: JobStatus = {
    jobId,
    state: 'running',
    input: { bucket: deps.bucket, uri: input.uri, etag, objects: input.objects.length, bytes },
    mode,
    chunkSize,
    updatedAt: now().toISOString(),
    tasks: { map: 0, mapDone: 0, reduce: 0, reduceDone: 0 },
    output,
  };
  const writeStatus = () => {
    status.updatedAt = now().toISOString();
    return store.put(statusKey(jobId), JSON.stringify(status, null, 2), {
      contentType: 'application/json',
    });
  };

  const top = Math.max(PUBLISHED_TOP, request.top ?? PUBLISHED_TOP);
  let summary: Summary;
  try {
    const counted = await runJob(
      {
        sources: store,
        work: store,
        runner: deps.runner,
        taskFunction: deps.taskFunction,
        onProgress: (p) => {
          if (p.phase === 'map') status.tasks.mapDone = p.tasksDone;
          else if (p.phase === 'reduce')
            Object.assign(status.tasks, { reduce: p.tasks, reduceDone: p.tasksDone });
        },
      },
      {
        source: { uri: input.uri, etag },
        objects: input.objects,
        mode,
        chunkSize,
        concurrency: deps.concurrency,
        top,
        bucket: deps.bucket,
        workPrefix: jobPrefix(jobId),
        inlineLimitBytes: deps.inlineLimitBytes ?? INLINE_RESULT_LIMIT_BYTES,
        counts: { store, key: output.counts },
        startedAt,
        onPlan: async ({ tasks }) => {
          status.tasks.map = tasks.length;
          await store.put(
            planKey(jobId),
            JSON.stringify({ jobId, objects: input.objects, tasks }),
            { contentType: 'application/json' },
          );
          await writeStatus();
        },
      },
    );
    // Counts first (written by the job), summary last: a reader that sees the summary
    // finds the counts. elapsedMs covers everything up to this last write.
    const now = performance.now();
    const published = now - startedAt - counted.elapsedMs;
    summary = {
      ...counted,
      top: counted.top.slice(0, PUBLISHED_TOP),
      elapsedMs: Math.round(now - startedAt),
      stats: {
        ...counted.stats,
        phasesMs: {
          ...counted.stats.phasesMs,
          publish: counted.stats.phasesMs.publish + Math.max(0, Math.round(published)),
        },
      },
    };
    await store.put(output.summary, `${JSON.stringify(summary, null, 2)}\n`, {
      contentType: 'application/json',
    });
    summary = { ...summary, top: counted.top.slice(0, request.top ?? PUBLISHED_TOP) };
  } catch (error) {
    await removeScratch(deps, jobId);
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
    throw new JobFailedError(`job ${jobId} for ${input.uri} failed: ${messageOf(error)}`, {
      cause: error,
    });
  }
  // Published. If this last write fails the invocation fails, but the job is not marked
  // failed: its output is complete, and a retry finds the claim and stops.
  status.state = 'succeeded';
  await writeStatus();
  deps.log?.(`job ${jobId}: published ${store.uri(output.summary)} (${summary.totalWords} words)`);
  await removeScratch(deps, jobId);
  return { outcome: 'published', jobId, summary };
}
