/**
 * Starting a queued job: the orchestrator admits the request, records the job active,
 * takes the job's claim, plans it once, records the attempt and sends the map tasks, and
 * returns. A start cut short (the orchestrator died) is finished by a retry of the
 * request, or by the watchdog (watchdog.ts), which starts it again the same way.
 */
import { randomUUID } from 'node:crypto';
import type { QueuedJob, QueuedReply } from '../../contracts/queue.js';
import type { StartRequest } from '../../contracts/requests.js';
import type { Summary } from '../../contracts/summary.js';
import { addUsage, emptyTally, type UsageTally } from '../../cost/usage.js';
import {
  isDeterministic,
  JobBusyError,
  messageOf,
  UsageError,
  WordcountError,
} from '../../errors.js';
import { statusKey } from '../../keys.js';
import { type MapTaskPlan, totalBytes } from '../../plan.js';
import { markActive, removeActive } from '../ledger/active-jobs.js';
import { JobLedger } from '../ledger/attempt-ledger.js';
import { jobClaim } from '../ledger/claims.js';
import { failedOnChange, recordOutcome } from '../ledger/outcome.js';
import { answeredBefore } from '../ledger/published.js';
import {
  isTerminal,
  readStatus,
  recordAttempt,
  runningRecord,
  updateStatus,
} from '../ledger/status.js';
import { removeJobObjects } from '../ledger/temporaries.js';
import { INLINE_MAX_DISTINCT, mapRequestFor } from '../phases/map-results.js';
import { type JobPlan, planJob } from '../phases/plan-job.js';
import { admit, type Job } from '../request/admit.js';
import { nowOf, type QueueDeps } from './deps.js';
import { afterPhase } from './phase-steps.js';
import { startTasks } from './send-tasks.js';

export interface StartDeps extends QueueDeps {
  /** The bucket the task requests name (absent on the embedded backend). */
  bucket?: string;
  concurrency: number;
  defaultChunkSize: number;
  inlineLimitBytes: number;
  maxInlineDistinct?: number;
}

export type Started =
  | { outcome: 'queued'; jobId: string; attempt: string; tasks: number }
  | { outcome: 'already-queued'; jobId: string; attempt: string }
  | { outcome: 'already-published'; jobId: string; summary: Summary };

/**
 * The orchestrator's part: plan, record, send the map tasks, and return. A start cut
 * short (the orchestrator died) is finished by a retry, or by the watchdog.
 */
export async function startQueuedJob(
  deps: StartDeps,
  request: StartRequest,
  owner: string = randomUUID(),
): Promise<Started> {
  const { store } = deps;
  const startedAt = nowOf(deps);
  const measured = deps.measure?.();
  const used = measured && (() => addUsage(emptyTally(), 'orchestrator', measured()));
  const job = await admit({ ...deps, bucket: deps.bucket ?? '' }, request);
  const { jobId } = job;
  // A job published before answers without being recorded active.
  const before = await answeredBefore(store, jobId, job.output, deps.log);
  if (before) return { outcome: 'already-published', jobId, summary: before };
  // Before the claim: from here on, whatever dies, the watchdog finds the job.
  const marked = await markActive(
    store,
    { jobId, coordination: 'queue', request: job.request },
    nowOf(deps),
  );
  const claim = jobClaim(deps, jobId, owner, `starting job ${jobId} for ${job.input.uri}`);
  const acquired = await claim.acquire();
  if (!acquired.held) {
    throw new JobBusyError(
      `${job.input.uri}: job ${jobId} is being started by another invocation (heartbeat ${acquired.holder.heartbeatAt}); retry later`,
    );
  }
  claim.keepAlive((reason) => deps.log?.(`job ${jobId}: ${reason}`, { jobId }));
  try {
    // Read under the claim: no other start changes it meanwhile.
    const status = await readStatus(store, jobId);
    if (status?.state === 'succeeded') {
      // Published while this start waited for the claim.
      const published = await answeredBefore(store, jobId, job.output, deps.log);
      if (published) {
        await removeActive(store, jobId, marked);
        return { outcome: 'already-published', jobId, summary: published };
      }
    }
    // Planned under the claim, only when tasks are to be sent (a restart plans the same
    // tasks: planning is a function of the objects' versions).
    const plan = () => planOrEnd(deps, job, marked);
    if (status && !isTerminal(status.state) && status.attempt) {
      const ledger = new JobLedger(store, jobId, status.attempt, deps.now);
      const queued = await ledger.readJob();
      if (queued) {
        if ((await ledger.phase('map'))?.sent) {
          return { outcome: 'already-queued', jobId, attempt: queued.attempt };
        }
        deps.log?.(`job ${jobId}: its start was cut short; sending its map tasks again`, { jobId });
        const tasks = await sendMapTasks(deps, ledger, queued, (await plan()).tasks, owner, used);
        return { outcome: 'queued', jobId, attempt: queued.attempt, tasks };
      }
    }
    // A first run, or one after an ending without output: a new attempt, from nothing.
    const planned = await plan();
    await removeJobObjects(store, jobId, deps.log);
    const attempt = randomUUID();
    const ledger = new JobLedger(store, jobId, attempt, deps.now);
    const name = job.input.name;
    const sources = job.input.objects;
    const queued: QueuedJob = {
      jobId,
      attempt,
      bucket: deps.bucket,
      input: name.kind === 'keys' ? { kind: 'keys', keys: [...name.keys] } : name,
      source: { uri: job.input.uri, etag: job.etag },
      sources: { objects: sources.length, bytes: totalBytes(sources) },
      mode: job.mode,
      ...(Object.keys(job.records).length > 0 && { records: job.records }),
      chunkSize: planned.chunkSize,
      partitions: planned.partitions,
      mapTasks: planned.tasks.length,
      concurrency: deps.concurrency,
      top: job.publishedTop,
      ...(job.minCount !== undefined && { minCount: job.minCount }),
      inlineLimitBytes: deps.inlineLimitBytes,
      maxInlineDistinct: deps.maxInlineDistinct ?? INLINE_MAX_DISTINCT,
      output: job.output,
      startedAt: startedAt.toISOString(),
      plannedAt: nowOf(deps).toISOString(),
    };
    await ledger.writeJob(queued);
    await recordAttempt(
      store,
      runningRecord({
        jobId,
        attempt,
        coordination: 'queue',
        bucket: deps.bucket ?? '',
        input: { uri: job.input.uri, etag: job.etag, objects: sources },
        mode: job.mode,
        chunkSize: planned.chunkSize,
        mapTasks: planned.tasks.length,
        output: job.output,
      }),
      nowOf(deps),
    );
    const tasks = await sendMapTasks(deps, ledger, queued, planned.tasks, owner, used);
    deps.log?.(`job ${jobId}: ${tasks} map task(s) queued for ${job.input.uri}`, {
      jobId,
      attempt,
      phase: 'map',
      tasks,
    });
    return { outcome: 'queued', jobId, attempt, tasks };
  } finally {
    await claim.release();
  }
}

/**
 * The job's plan. A job whose input cannot be planned ends now: `refused` (it asks for
 * what cannot be counted: a column that is not there) or `failed` (a corrupt file),
 * whatever an earlier run recorded, and off the watchdog's list; the error says it was
 * recorded. An object that changed meanwhile is not this job's to end (the newer
 * upload starts its own): that error goes up unrecorded, as any other.
 */
async function planOrEnd(deps: StartDeps, job: Job, marked: string): Promise<JobPlan> {
  try {
    return await planJob(deps.store, job.input.objects, {
      chunkSize: job.chunkSize,
      concurrency: deps.concurrency,
      records: job.records,
    });
  } catch (error) {
    if (isDeterministic(error) && !failedOnChange(error) && error instanceof WordcountError) {
      await recordUnplannable(deps, job, marked, error);
      error.recordedAs = job.jobId;
    }
    throw error;
  }
}

async function recordUnplannable(
  deps: StartDeps,
  job: Job,
  marked: string,
  error: unknown,
): Promise<void> {
  const state = error instanceof UsageError ? 'refused' : 'failed';
  const reason = messageOf(error);
  const ended = await updateStatus(deps, job.jobId, (s) => {
    s.state = state;
    s.reason = reason;
    return true;
  });
  if (!ended) {
    await recordOutcome(deps, job.jobId, state, reason, {
      request: job.request,
      bucket: deps.bucket,
    });
  }
  await removeActive(deps.store, job.jobId, marked);
  deps.log?.(`job ${job.jobId}: ${state}: ${reason}`, { jobId: job.jobId });
}

/**
 * Records the map phase planned (before any task goes), sends its tasks, records them
 * sent; returns how many. Planning again gives the same tasks, so a repeat only sends
 * duplicates, which find their commits.
 */
async function sendMapTasks(
  deps: QueueDeps,
  ledger: JobLedger,
  job: QueuedJob,
  tasks: readonly MapTaskPlan[],
  by: string,
  /** What the sender used so far: the job's first usage record (the orchestrator's). */
  used?: () => UsageTally,
): Promise<number> {
  const requests = tasks.map((task) =>
    mapRequestFor({
      task,
      mode: job.mode,
      records: job.records,
      bucket: job.bucket,
      workPrefix: ledger.prefix,
      partitions: job.partitions,
      inlineLimitBytes: job.inlineLimitBytes,
      expectedDistinct: 0,
      chunkSize: job.chunkSize,
    }),
  );
  await startTasks(deps, ledger, 'map', { by, at: nowOf(deps).toISOString() }, requests, () =>
    used?.(),
  );
  // Only empty objects: no task will complete the map phase, so it completes here.
  if (requests.length === 0) await afterPhase(deps, ledger, job, 'map', by, deps.measure?.());
  return requests.length;
}

/** The orchestrator's answer to a direct request that queued a job: where it is, where its output goes. */
export function queuedReply(
  store: { uri(key: string): string },
  started: Extract<Started, { outcome: 'queued' | 'already-queued' }>,
  output: { summary: string; counts: string; report: string },
): QueuedReply {
  return {
    jobId: started.jobId,
    outcome: started.outcome,
    status: store.uri(statusKey(started.jobId)),
    output: {
      summary: store.uri(output.summary),
      counts: store.uri(output.counts),
      report: store.uri(output.report),
    },
  };
}
