/**
 * Starting a queued job: the orchestrator records it active, plans it, records it,
 * sends the map tasks, and returns. A start cut short (the orchestrator died) is
 * finished by a retry of the request, or by the watchdog (watchdog.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Summary } from '../contracts.js';
import { addUsage, emptyTally, type UsageTally } from '../cost/usage.js';
import { JobBusyError } from '../errors.js';
import { claimKey, latestJobKey } from '../keys.js';
import type { SourceObject } from '../plan.js';
import type { QueuedJob } from '../queue-contracts.js';
import { markActive } from './active.js';
import { Lease } from './lease.js';
import { JobLedger } from './ledger.js';
import { INLINE_MAX_DISTINCT, mapRequestFor } from './map-results.js';
import { type JobRequestOptions, prepare } from './prepare.js';
import { publishedSummary } from './publish.js';
import type { RecordDeps } from './queue-ending.js';
import { afterPhase, nowOf, type QueueDeps, sendTasks } from './queue-phases.js';
import { planJob } from './run-job.js';
import { isTerminal, readStatus, writeStatus } from './status.js';
import { removeJobObjects } from './temporaries.js';

/** Top words in a queued job's published summary. */
const QUEUED_TOP = 20;

export interface StartDeps extends QueueDeps {
  /** The bucket the task requests name (absent on the embedded backend). */
  bucket?: string;
  concurrency: number;
  defaultChunkSize: number;
  inlineLimitBytes: number;
  maxInlineDistinct?: number;
  /** The least output a finalize task merges: tests lower it to reach the finalize phase. */
  finalizeMinBytes?: number;
}

export type Started =
  | { outcome: 'queued'; jobId: string; attempt: string; tasks: number }
  | { outcome: 'already-queued'; jobId: string; attempt: string }
  | { outcome: 'already-published'; jobId: string; summary: Summary };

/** The lease on starting job `jobId`: the orchestrator's, or a start check's. */
function startLease(deps: RecordDeps, jobId: string, owner: string, uri: string): Lease {
  return new Lease(deps.store, claimKey(jobId), owner, {
    periodMs: deps.heartbeatMs,
    now: deps.now,
    detail: `starting job ${jobId} for ${uri}`,
  });
}

/**
 * The orchestrator's part: plan, record, send the map tasks, and return. A start cut
 * short (the orchestrator died) is finished by its start check, or by a retry.
 */
export async function startQueuedJob(
  deps: StartDeps,
  request: JobRequestOptions,
  owner: string = randomUUID(),
): Promise<Started> {
  const { store } = deps;
  const startedAt = nowOf(deps);
  const measured = deps.measure?.();
  const used = measured && (() => addUsage(emptyTally(), 'orchestrator', measured()));
  const job = await prepare({ ...deps, bucket: deps.bucket ?? '' }, request);
  const { jobId } = job;
  // A job published before answers without being recorded active.
  if ((await readStatus(store, jobId))?.state === 'succeeded') {
    const summary = await publishedSummary(store, jobId, job.output, deps.log);
    if (summary) return { outcome: 'already-published', jobId, summary };
  }
  // Before the claim: from here on, whatever dies, the watchdog finds the job.
  await markActive(store, { jobId, coordination: 'queue', request: job.request }, startedAt);
  const claim = startLease(deps, jobId, owner, job.input.uri);
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
      const summary = await publishedSummary(store, jobId, job.output, deps.log);
      if (summary) return { outcome: 'already-published', jobId, summary };
    }
    if (status && !isTerminal(status.state) && status.attempt) {
      const ledger = new JobLedger(store, jobId, status.attempt, deps.now);
      const queued = await ledger.readJob();
      if (queued) {
        if ((await ledger.phase('map'))?.sent) {
          return { outcome: 'already-queued', jobId, attempt: queued.attempt };
        }
        deps.log?.(`job ${jobId}: its start was cut short; sending its map tasks again`, { jobId });
        const tasks = await sendMapTasks(deps, ledger, queued, job.input.objects, owner, used);
        return { outcome: 'queued', jobId, attempt: queued.attempt, tasks };
      }
    }
    // A first run, or one after an ending without output: a new attempt, from nothing.
    await removeJobObjects(store, jobId, deps.log);
    const attempt = randomUUID();
    const ledger = new JobLedger(store, jobId, attempt, deps.now);
    const plan = await planJob(store, job.input.objects, {
      chunkSize: job.chunkSize,
      concurrency: deps.concurrency,
    });
    const name = job.input.name;
    const queued: QueuedJob = {
      jobId,
      attempt,
      bucket: deps.bucket,
      input: name.kind === 'keys' ? { kind: 'keys', keys: [...name.keys] } : name,
      source: { uri: job.input.uri, etag: job.etag },
      sources: {
        objects: job.input.objects.length,
        bytes: job.input.objects.reduce((sum, o) => sum + o.size, 0),
      },
      mode: job.mode,
      chunkSize: plan.chunkSize,
      partitions: plan.partitions,
      mapTasks: plan.tasks.length,
      concurrency: deps.concurrency,
      top: QUEUED_TOP,
      inlineLimitBytes: deps.inlineLimitBytes,
      maxInlineDistinct: deps.maxInlineDistinct ?? INLINE_MAX_DISTINCT,
      finalizeMinBytes: deps.finalizeMinBytes,
      output: job.output,
      startedAt: startedAt.toISOString(),
      plannedAt: nowOf(deps).toISOString(),
    };
    await ledger.writeJob(queued);
    await writeStatus(
      store,
      {
        jobId,
        state: 'running',
        coordination: 'queue',
        attempt,
        input: { bucket: deps.bucket ?? '', uri: job.input.uri, etag: job.etag, ...queued.sources },
        mode: job.mode,
        chunkSize: plan.chunkSize,
        updatedAt: '',
        tasks: { map: plan.tasks.length, mapDone: 0, reduce: 0, reduceDone: 0 },
        output: job.output,
      },
      nowOf(deps),
    );
    await store.put(latestJobKey(job.output.summary), JSON.stringify({ jobId }), {
      contentType: 'application/json',
    });
    const tasks = await sendMapTasks(deps, ledger, queued, job.input.objects, owner, used);
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
 * Plans the map phase (recorded before any task goes), sends its tasks, records them
 * sent; returns how many. Planning again gives the same tasks, so a repeat only sends
 * duplicates, which find their commits.
 */
async function sendMapTasks(
  deps: QueueDeps & { concurrency?: number },
  ledger: JobLedger,
  job: QueuedJob,
  objects: readonly SourceObject[],
  by: string,
  /** What the sender used so far: the job's first usage record (the orchestrator's). */
  used?: () => UsageTally,
): Promise<number> {
  const plan = await planJob(deps.store, objects, {
    chunkSize: job.chunkSize,
    concurrency: job.concurrency,
  });
  const requests = plan.tasks.map((task) =>
    mapRequestFor({
      task,
      mode: job.mode,
      bucket: job.bucket,
      workPrefix: ledger.prefix,
      partitions: job.partitions,
      inlineLimitBytes: job.inlineLimitBytes,
      expectedDistinct: 0,
      chunkSize: job.chunkSize,
    }),
  );
  // The sender's usage goes in the first record too (see startTasks in queue-phases.ts).
  const usage = used?.();
  const record = {
    by,
    at: nowOf(deps).toISOString(),
    tasks: requests.length,
    ...(usage && { usage }),
  };
  await ledger.recordPhase('map', record);
  await sendTasks(deps, ledger, 'map', requests);
  // Measured again, so the sends are counted too.
  const sent = used?.();
  await ledger.recordPhase('map', { ...record, sent: true, ...(sent && { usage: sent }) });
  // Only empty objects: no task will complete the map phase, so it completes here.
  if (requests.length === 0) await afterPhase(deps, ledger, job, 'map', by, deps.measure?.());
  return requests.length;
}
