/**
 * The orchestrator use case with RPC coordination: one counting job per input version,
 * driven by this invocation from plan to publish.
 *
 * Exactly once. The job id depends only on the objects' versions and the options, so a
 * repeated notification finds its job: a published one answers from its output, a
 * counted one only publishes (a failed publish is repaired without recounting). Of two
 * concurrent invocations one holds the job's claim, a lease whose heartbeat this
 * invocation renews while it works; the other fails with a retryable JobBusyError, so
 * Lambda's retries (and an on-failure destination) see it. A claim whose heartbeat went
 * quiet for two periods belongs to an invocation that died, and is taken over.
 *
 * Version-safe. Every object is read with `If-Match` on the ETag the job recorded, the
 * counts wait in jobs/ID/ until publish, and publish (job/publish.ts) writes nothing
 * when a newer version of the input exists. Before Lambda would kill it, the invocation
 * stops, records `failed` and releases its claim.
 */
import { randomUUID } from 'node:crypto';
import { type JobStatus, JobStatusSchema, parsePayload, type Summary } from '../contracts.js';
import type { CostSetup } from '../cost/job-cost.js';
import type { Prices } from '../cost/prices.js';
import type { RequestMeter } from '../cost/request-meter.js';
import { startUsage } from '../cost/usage.js';
import { JobBusyError, JobFailedError, messageOf } from '../errors.js';
import {
  claimKey,
  inputEtag,
  jobPrefix,
  latestJobKey,
  planKey,
  stagedCountsKey,
  statusKey,
} from '../keys.js';
import type { Log } from '../log.js';
import type { FunctionRunner, ObjectStore } from '../ports.js';
import { clearActive, markActive } from './active.js';
import { resolveInput } from './inputs.js';
import { Lease } from './lease.js';
import { failedOnChange, inputChanged, SUPERSEDED_REASON } from './outcome.js';
import { type Job, type JobRequestOptions, prepare, readJson, withTop } from './prepare.js';
import { publish, publishedSummary } from './publish.js';
import { runJob } from './run-job.js';
import { removeJobObjects } from './temporaries.js';

export type { JobRequestOptions } from './prepare.js';

/** Top words in the published summary; a direct invocation may ask for another number. */
export const PUBLISHED_TOP = 20;

/** Inline results stay well under Lambda's 6 MB synchronous payload limit. */
export const INLINE_RESULT_LIMIT_BYTES = 4 * 1024 * 1024;

/** Time kept back before Lambda's deadline to record the failure and release the claim. */
export const DEADLINE_MARGIN_MS = 60_000;

/** Progress is recorded in the status this often at most (and at every new phase). */
const STATUS_EVERY_MS = 5000;

export interface OrchestratorDeps {
  store: ObjectStore;
  bucket: string;
  runner: FunctionRunner;
  /** The function that runs map, reduce and finalize tasks. */
  taskFunction: string;
  concurrency: number;
  defaultChunkSize: number;
  inlineLimitBytes?: number;
  /** Heartbeat period of the claim: stale, and taken over, after two. */
  heartbeatMs?: number;
  now?: () => Date;
  log?: Log;
  /** Reckon each job's cost: the requests this process makes, at these prices. */
  cost?: { meter: RequestMeter; prices: Prices };
}

export interface InvocationContext {
  /** The invocation's configured memory (Lambda's memoryLimitInMB): its GB-seconds. */
  memoryMb?: number;
  /** Who runs the job (the Lambda request id). */
  owner?: string;
  /** Milliseconds until this invocation is killed (Lambda's getRemainingTimeInMillis). */
  remainingMs?: () => number;
}

export type JobOutcome =
  | { outcome: 'published'; jobId: string; summary: Summary }
  | { outcome: 'already-published'; jobId: string; summary: Summary }
  | { outcome: 'superseded'; jobId: string; reason: string };

export async function runJobOnce(
  deps: OrchestratorDeps,
  request: JobRequestOptions,
  invocation: InvocationContext = {},
): Promise<JobOutcome> {
  const startedAt = performance.now();
  const driver = deps.cost && startUsage(deps.cost.meter, invocation.memoryMb ?? 0);
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  const job = await prepare(deps, request);
  const { jobId, output } = job;
  const owner = invocation.owner ?? randomUUID();
  const top = Math.max(PUBLISHED_TOP, request.top ?? 0);
  const cut = (summary: Summary) => ({
    ...summary,
    top: summary.top.slice(0, request.top ?? PUBLISHED_TOP),
  });

  // A finished job answers from its output, as long as that output is still its own.
  const previous = await readJson(store, statusKey(jobId));
  const status: JobStatus | undefined =
    previous === undefined
      ? undefined
      : parsePayload(JobStatusSchema, previous, `status of job ${jobId}`);
  if (status?.state === 'succeeded') {
    const summary = await publishedSummary(store, jobId, output, deps.log);
    if (summary) {
      return {
        outcome: 'already-published',
        jobId,
        summary: await withTop(store, summary, output.counts, request.top),
      };
    }
  }

  // Before the claim: from here on, whatever dies, the watchdog finds the job.
  await markActive(store, { jobId, coordination: 'rpc', request: job.request }, now());
  const claim = new Lease(store, claimKey(jobId), owner, {
    periodMs: deps.heartbeatMs,
    now,
    detail: `job ${jobId} for ${job.input.uri}`,
  });
  const acquired = await claim.acquire();
  if (!acquired.held) {
    throw new JobBusyError(
      `${job.input.uri}: job ${jobId} is being counted by another invocation (heartbeat ${acquired.holder.heartbeatAt}); retry later`,
    );
  }
  if (acquired.tookOver) {
    deps.log?.(
      `job ${jobId}: took over the claim of ${acquired.tookOver.owner}, silent since ${acquired.tookOver.heartbeatAt}`,
      { jobId },
    );
  }

  // Stop before Lambda would kill us, or when the claim is lost.
  const stop = new AbortController();
  claim.keepAlive((reason) => stop.abort(new Error(reason)));
  const watch = invocation.remainingMs
    ? setInterval(() => {
        if ((invocation.remainingMs as () => number)() < DEADLINE_MARGIN_MS) {
          stop.abort(new Error(`Lambda's deadline is under ${DEADLINE_MARGIN_MS / 1000} s away`));
        }
      }, 1000).unref()
    : undefined;

  const record: JobStatus =
    status?.state === 'counted' && status.summary
      ? { ...status, updatedAt: now().toISOString() }
      : {
          jobId,
          state: 'running',
          coordination: 'rpc',
          input: {
            bucket: deps.bucket,
            uri: job.input.uri,
            etag: job.etag,
            objects: job.input.objects.length,
            bytes: job.input.objects.reduce((sum, o) => sum + o.size, 0),
          },
          mode: job.mode,
          chunkSize: job.chunkSize,
          updatedAt: now().toISOString(),
          tasks: { map: 0, mapDone: 0, reduce: 0, reduceDone: 0 },
          output,
        };
  // Status writes go one after another: a progress write still in flight must not land
  // after, and overwrite, the record of how the job ended.
  let lastWrite: Promise<unknown> = Promise.resolve();
  const writeStatus = () => {
    const write = lastWrite
      .catch(() => undefined)
      .then(() => {
        record.updatedAt = now().toISOString();
        return store.put(statusKey(jobId), JSON.stringify(record, null, 2), {
          contentType: 'application/json',
        });
      });
    lastWrite = write;
    return write;
  };

  try {
    await store.put(latestJobKey(output.summary), JSON.stringify({ jobId }), {
      contentType: 'application/json',
    });
    let summary = record.summary;
    if (record.state !== 'counted' || !summary) {
      const cost: CostSetup | undefined = deps.cost &&
        driver && {
          backend: 'lambda',
          prices: deps.cost.prices,
          driverName: 'orchestrator',
          driver,
        };
      summary = await count(deps, job, record, writeStatus, stop.signal, startedAt, top, cost);
      record.state = 'counted';
      record.summary = summary;
      await writeStatus();
    } else deps.log?.(`job ${jobId}: counted before; publishing again`, { jobId });
    if (stop.signal.aborted) throw stop.signal.reason;
    const final: Summary = {
      ...summary,
      top: summary.top.slice(0, PUBLISHED_TOP),
      elapsedMs: Math.round(performance.now() - startedAt),
    };
    const published = await publish(store, {
      jobId,
      version: job.etag,
      currentVersion: async () => inputEtag((await resolveInput(store, job.input.name)).objects),
      stagedCounts: stagedCountsKey(jobId),
      output,
      summary: final,
      owner,
      periodMs: deps.heartbeatMs,
      log: deps.log,
    });
    record.state = published === 'published' ? 'succeeded' : 'superseded';
    if (published === 'superseded') record.reason = SUPERSEDED_REASON;
    await writeStatus();
    await clearActive(store, jobId);
    deps.log?.(
      `job ${jobId}: ${published} ${store.uri(output.summary)} (${summary.totalWords} words)`,
      { jobId, phase: 'publish' },
    );
    await removeJobObjects(store, jobId, deps.log);
    if (published === 'superseded') return { outcome: published, jobId, reason: SUPERSEDED_REASON };
    return { outcome: published, jobId, summary: { ...final, top: cut(summary).top } };
  } catch (error) {
    const reason = messageOf(stop.signal.aborted ? stop.signal.reason : error);
    // Counted but not published: the staged counts stay, and the next attempt publishes.
    const counted = record.state === 'counted';
    if (
      !counted &&
      failedOnChange(error) &&
      (await inputChanged(store, job.input.name, job.etag).catch(() => false))
    ) {
      // An object was overwritten while it was read (reads are If-Match on its version).
      record.state = 'superseded';
      record.reason = `${reason}: ${SUPERSEDED_REASON}`;
      await writeStatus();
      await clearActive(store, jobId);
      await removeJobObjects(store, jobId, deps.log);
      deps.log?.(`job ${jobId}: superseded: ${record.reason}`, { jobId });
      return { outcome: 'superseded', jobId, reason: record.reason };
    }
    record.reason = reason;
    if (!counted) record.state = 'failed';
    await writeStatus().catch((e: unknown) =>
      deps.log?.(`job ${jobId}: could not record failure: ${messageOf(e)}`, { jobId }),
    );
    if (!counted) {
      await clearActive(store, jobId).catch(() => undefined);
      await removeJobObjects(store, jobId, deps.log);
    }
    throw new JobFailedError(`job ${jobId} for ${job.input.uri} failed: ${reason}`, {
      cause: error,
    });
  } finally {
    if (watch) clearInterval(watch);
    // Released last: a retry that finds no claim finds the recorded outcome.
    await claim
      .release()
      .catch((e: unknown) =>
        deps.log?.(`job ${jobId}: could not release its claim: ${messageOf(e)}`, { jobId }),
      );
  }
}

/** Runs the job's tasks into the staged counts file; returns the summary to publish. */
async function count(
  deps: OrchestratorDeps,
  job: Job,
  record: JobStatus,
  writeStatus: () => Promise<unknown>,
  signal: AbortSignal,
  startedAt: number,
  top: number,
  cost: CostSetup | undefined,
): Promise<Summary> {
  const { store } = deps;
  const progress = { phase: '', written: Date.now() };
  const counting = runJob(
    {
      sources: store,
      work: store,
      runner: deps.runner,
      taskFunction: deps.taskFunction,
      cost,
      log: deps.log,
      onProgress: (p) => {
        if (p.phase === 'map') record.tasks.mapDone = p.tasksDone;
        else if (p.phase === 'reduce')
          Object.assign(record.tasks, { reduce: p.tasks, reduceDone: p.tasksDone });
        // Progress for `wordcount status`: at each new phase, and every few seconds.
        const at = Date.now();
        if (p.phase !== progress.phase || at - progress.written > STATUS_EVERY_MS) {
          progress.phase = p.phase;
          progress.written = at;
          writeStatus().catch((e: unknown) =>
            deps.log?.(`job ${job.jobId}: could not record progress: ${messageOf(e)}`, {
              jobId: job.jobId,
            }),
          );
        }
      },
    },
    {
      jobId: job.jobId,
      source: { uri: job.input.uri, etag: job.etag },
      objects: job.input.objects,
      mode: job.mode,
      chunkSize: job.chunkSize,
      concurrency: deps.concurrency,
      top,
      bucket: deps.bucket,
      workPrefix: jobPrefix(job.jobId),
      inlineLimitBytes: deps.inlineLimitBytes ?? INLINE_RESULT_LIMIT_BYTES,
      counts: { store, key: stagedCountsKey(job.jobId) },
      startedAt,
      signal,
      onPlan: async ({ tasks }) => {
        record.tasks.map = tasks.length;
        await store.put(
          planKey(job.jobId),
          JSON.stringify({ jobId: job.jobId, objects: job.input.objects, tasks }),
          { contentType: 'application/json' },
        );
        await writeStatus();
      },
    },
  );
  // Stopped: do not wait for the tasks in flight (a counter may run for minutes).
  counting.catch(() => undefined);
  const stopped = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  stopped.catch(() => undefined);
  const summary = await Promise.race([counting, stopped]);
  return { ...summary, jobId: job.jobId };
}
