/**
 * The counting part of an RPC run: the job's phases (run-phases.ts) into the staged counts
 * file, its planned tasks and progress recorded in the run's status record, stopped at
 * once when the run must stop (its claim lost, Lambda's deadline near).
 */
import type { Summary } from '../../contracts/summary.js';
import type { CostSetup } from '../../cost/job-cost.js';
import type { startUsage } from '../../cost/usage.js';
import { ledgerKeys } from '../../keys.js';
import { RunRecord } from '../ledger/run-record.js';
import { INLINE_RESULT_LIMIT_BYTES } from '../phases/map-results.js';
import type { Job } from '../request/admit.js';
import type { OrchestratorDeps } from './deps.js';
import { runJob } from './run-phases.js';

/** One run of a job: when it began, its attempt id, what stops it, what measures its cost. */
export interface RunAttempt {
  startedAt: number;
  attempt: string;
  signal: AbortSignal;
  driver: ReturnType<typeof startUsage> | undefined;
}

/** Runs the job's tasks into the staged counts file; returns the summary to publish. */
export async function countRun(
  deps: OrchestratorDeps,
  job: Job,
  attempt: RunAttempt,
  /** The attempt's folder: its scratch and staged counts. */
  work: string,
): Promise<Summary> {
  const { store } = deps;
  const record = new RunRecord({ store, now: deps.now, log: deps.log }, job.jobId, attempt.attempt);
  const cost: CostSetup | undefined = deps.cost &&
    attempt.driver && {
      backend: 'lambda',
      prices: deps.cost.prices,
      driverName: 'orchestrator',
      driver: attempt.driver,
    };
  const counting = runJob(
    {
      sources: store,
      work: store,
      runner: deps.runner,
      taskFunction: deps.taskFunction,
      cost,
      log: deps.log,
      onProgress: (p) => record.progress(p),
    },
    {
      jobId: job.jobId,
      source: { uri: job.input.uri, etag: job.etag },
      objects: job.input.objects,
      mode: job.mode,
      records: job.records,
      chunkSize: job.chunkSize,
      concurrency: deps.concurrency,
      top: Math.max(job.publishedTop, job.request.top ?? 0),
      minCount: job.minCount,
      bucket: deps.bucket,
      workPrefix: work,
      inlineLimitBytes: deps.inlineLimitBytes ?? INLINE_RESULT_LIMIT_BYTES,
      counts: { store, key: ledgerKeys.counts(work) },
      startedAt: attempt.startedAt,
      signal: attempt.signal,
      onPlan: ({ tasks }) => record.planned(tasks.length),
    },
  );
  // Stopped: do not wait for the tasks in flight (a counter may run for minutes).
  counting.catch(() => undefined);
  const stopped = new Promise<never>((_, reject) => {
    const { signal } = attempt;
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  stopped.catch(() => undefined);
  try {
    const summary = await Promise.race([counting, stopped]);
    await record.flush();
    return { ...summary, jobId: job.jobId };
  } finally {
    await record.flush().catch(() => undefined);
  }
}
