/**
 * The RPC driver: one orchestrator invocation runs a job from admission to publish,
 * invoking the task function for every task (run-phases.ts) and waiting for it.
 *
 * Exactly once. The job id depends only on the objects' versions and the options, so a
 * repeated notification finds its job: a published one answers from its output, a
 * counted one only publishes. Of two concurrent invocations one holds the job's claim,
 * renewing its heartbeat while it works; the other fails with a retryable JobBusyError.
 * A claim silent for two periods belongs to an invocation that died; the watchdog (or a
 * retry) takes it over and runs the job again, as a new attempt.
 *
 * Version-safe. Every object is read with `If-Match` on the ETag the job recorded, the
 * counts wait in the attempt's folder until publish (jobs/ID/attempts/A/, its scratch
 * too, so a run that was replaced touches nothing of the run that replaced it), and
 * publish writes nothing when a newer version of the input exists. Before Lambda would
 * kill it, the invocation stops, records `failed` and releases its claim.
 */
import { randomUUID } from 'node:crypto';
import type { StartRequest } from '../../contracts/requests.js';
import type { Summary } from '../../contracts/summary.js';
import { startUsage } from '../../cost/usage.js';
import { JobBusyError, JobFailedError, messageOf } from '../../errors.js';
import { attemptPrefix, ledgerKeys } from '../../keys.js';
import { clearIfEnded, markActive, removeActive } from '../ledger/active-jobs.js';
import { jobClaim } from '../ledger/claims.js';
import {
  DELETED_REASON,
  failedOnChange,
  inputChanged,
  SUPERSEDED_REASON,
} from '../ledger/outcome.js';
import { publishCounted } from '../ledger/publish-counted.js';
import { answeredBefore } from '../ledger/published.js';
import { readStatus, recordAttempt, runningRecord, updateAttempt } from '../ledger/status.js';
import { removeAttemptObjects, removeJobObjects } from '../ledger/temporaries.js';
import { PUBLISHED_TOP, withTop } from '../phases/summary.js';
import { admit, type Job } from '../request/admit.js';
import { countRun, type RunAttempt } from './count-run.js';
import { DEADLINE_MARGIN_MS, type InvocationContext, type OrchestratorDeps } from './deps.js';

export type JobOutcome =
  | { outcome: 'published'; jobId: string; summary: Summary }
  | { outcome: 'already-published'; jobId: string; summary: Summary }
  | { outcome: 'superseded'; jobId: string; reason: string };

export async function runJobOnce(
  deps: OrchestratorDeps,
  request: StartRequest,
  invocation: InvocationContext = {},
): Promise<JobOutcome> {
  const startedAt = performance.now();
  const driver = deps.cost && startUsage(deps.cost.meter, invocation.memoryMb ?? 0);
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  const job = await admit(deps, request);
  const { jobId, output } = job;

  // A finished job answers from its output, as long as that output is still its own.
  const before = await answeredBefore(store, jobId, output, deps.log);
  if (before) {
    const summary = await withTop(store, before, output.counts, request.top);
    return { outcome: 'already-published', jobId, summary };
  }
  // Before the claim: from here on, whatever dies, the watchdog finds the job.
  const marked = await markActive(
    store,
    { jobId, coordination: 'rpc', request: job.request },
    now(),
  );
  const owner = invocation.owner ?? randomUUID();
  const claim = jobClaim(deps, jobId, owner, `job ${jobId} for ${job.input.uri}`);
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
  try {
    // Published by another run while this one waited for the claim: answered.
    const published = await answeredBefore(store, jobId, output, deps.log);
    if (published) {
      await removeActive(store, jobId, marked);
      const summary = await withTop(store, published, output.counts, request.top);
      return { outcome: 'already-published', jobId, summary };
    }
    return await run(deps, job, { startedAt, attempt: randomUUID(), signal: stop.signal, driver });
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

/** One attempt, under the job's claim: count (unless counted before), publish, record. */
async function run(deps: OrchestratorDeps, job: Job, attempt: RunAttempt): Promise<JobOutcome> {
  const { store } = deps;
  const { jobId, output } = job;
  const now = deps.now ?? (() => new Date());
  const previous = await readStatus(store, jobId);
  // Counted by a run that did not publish: its staged counts are published, not recounted.
  const staged = previous?.state === 'counted' ? previous.staged : undefined;
  const counted = staged ? previous?.summary : undefined;
  const work = attemptPrefix(jobId, attempt.attempt);
  await recordAttempt(
    store,
    counted && previous
      ? { ...previous, attempt: attempt.attempt }
      : runningRecord({
          jobId,
          attempt: attempt.attempt,
          coordination: 'rpc',
          bucket: deps.bucket,
          input: { uri: job.input.uri, etag: job.etag, objects: job.input.objects },
          mode: job.mode,
          chunkSize: job.chunkSize,
          mapTasks: 0,
          output,
        }),
    now(),
  );
  const recordOf = { store, now: deps.now, log: deps.log };
  try {
    let summary = counted;
    if (summary) deps.log?.(`job ${jobId}: counted before; publishing again`, { jobId });
    else summary = await countRun(deps, job, attempt, work);
    if (attempt.signal.aborted) throw attempt.signal.reason;
    const final: Summary = {
      ...summary,
      top: summary.top.slice(0, job.publishedTop),
      elapsedMs: Math.round(performance.now() - attempt.startedAt),
    };
    const outcome = await publishCounted(
      { ...recordOf, heartbeatMs: deps.heartbeatMs },
      {
        jobId,
        attempt: attempt.attempt,
        input: job.input.name,
        version: job.etag,
        stagedCounts: staged ?? ledgerKeys.counts(work),
        output,
        summary: final,
      },
    );
    if (outcome === 'replaced') {
      // Another run holds the job now: what is under jobs/ID/ may be its own.
      throw new JobFailedError(`job ${jobId}: another run took it over while it published`);
    }
    // Ended: every attempt's objects go.
    await removeJobObjects(store, jobId, deps.log);
    if (outcome === 'superseded') return { outcome, jobId, reason: SUPERSEDED_REASON };
    if (outcome === 'deleted') return { outcome: 'superseded', jobId, reason: DELETED_REASON };
    // The answer has the top words asked for (the published summary has PUBLISHED_TOP).
    const top = summary.top.slice(0, job.request.top ?? PUBLISHED_TOP);
    return { outcome, jobId, summary: { ...final, top } };
  } catch (error) {
    const stopped = attempt.signal.aborted ? attempt.signal.reason : error;
    if (
      failedOnChange(error) &&
      (await inputChanged(store, job.input.name, job.etag).catch(() => false))
    ) {
      // An object was overwritten while it was read (reads are If-Match on its version).
      const reason = `${messageOf(stopped)}: ${SUPERSEDED_REASON}`;
      await end(deps, job, work, attempt.attempt, 'superseded', reason);
      deps.log?.(`job ${jobId}: superseded: ${reason}`, { jobId });
      return { outcome: 'superseded', jobId, reason };
    }
    await end(deps, job, work, attempt.attempt, 'failed', messageOf(stopped));
    throw new JobFailedError(`job ${jobId} for ${job.input.uri} failed: ${messageOf(stopped)}`, {
      cause: error,
    });
  }
}

/**
 * Records how an attempt ended unpublished. Counted but not published, the staged counts
 * stay and the record says why: the next attempt publishes them without counting.
 */
async function end(
  deps: OrchestratorDeps,
  job: Job,
  /** Where the attempt keeps its objects. */
  work: string,
  attempt: string,
  state: 'failed' | 'superseded',
  reason: string,
): Promise<void> {
  const { store } = deps;
  let counted = false;
  const recorded = await updateAttempt(
    deps,
    job.jobId,
    attempt,
    (s) => {
      counted = s.state === 'counted';
      if (!counted) s.state = state;
      s.reason = reason;
    },
    ['running', 'counted'],
  ).catch((e: unknown) => {
    deps.log?.(`job ${job.jobId}: could not record its end: ${messageOf(e)}`, { jobId: job.jobId });
    return false;
  });
  if (recorded && !counted) {
    await clearIfEnded(store, job.jobId).catch(() => undefined);
    await removeAttemptObjects(store, work, deps.log);
  }
}
