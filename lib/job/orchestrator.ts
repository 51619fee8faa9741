/**
 * What the orchestrator function does, whichever coordination it runs: start a job (RPC:
 * run it to its end and answer the summary; queue: start it and answer where it is, or
 * the summary of a version counted before), start the job of each upload of a
 * notification, and run a round of the watchdog. The function builds the clients once and
 * hands them here.
 */

import type { OrchestratorConfig } from '../config.js';
import type { PlanSummary } from '../contracts/plan.js';
import type { QueuedReply } from '../contracts/queue.js';
import type { StartRequest } from '../contracts/requests.js';
import type { Summary } from '../contracts/summary.js';
import type { RequestMeter } from '../cost/request-meter.js';
import { startUsage } from '../cost/usage.js';
import { ConfigurationError, JobFailedError, UsageError } from '../errors.js';
import { inputUri, outputKeys } from '../keys.js';
import type { Log } from '../log.js';
import type { FunctionRunner, ObjectStore, TaskQueue } from '../ports.js';
import { dryPlanOfJob } from './phases/dry-plan.js';
import { INLINE_RESULT_LIMIT_BYTES } from './phases/map-results.js';
import { withTop } from './phases/summary.js';
import { queuedReply, type StartDeps, startQueuedJob } from './queue/start.js';
import { admit } from './request/admit.js';
import type { InvocationContext } from './rpc/deps.js';
import { runJobOnce } from './rpc/rpc-job.js';
import { runTask } from './tasks/run-task.js';
import { startUpload } from './uploads.js';
import { type SweepOutcome, sweep } from './watchdog.js';

export interface OrchestratorSetup {
  config: Readonly<OrchestratorConfig>;
  /** The store of a bucket (one client, many buckets). */
  storeOf(bucket: string): ObjectStore;
  /** RPC: runs the counter. */
  runner?: FunctionRunner;
  /** Queue: the task queue. */
  queue?: TaskQueue;
  meter: RequestMeter;
  log: Log;
  /** Told of each job this invocation published (its metrics). */
  onPublished?: (summary: Summary) => void;
}

export interface Started {
  jobId: string;
  outcome: string;
  reply?: Summary | QueuedReply;
  /** Why a superseded job published nothing. */
  reason?: string;
}

export function orchestrator(setup: OrchestratorSetup) {
  const { config, log } = setup;

  const queueDeps = (store: ObjectStore, invocation: InvocationContext): StartDeps => {
    if (!setup.queue)
      throw new ConfigurationError('this orchestrator has no task queue (WORDCOUNT_QUEUE_URL)');
    return {
      store,
      queue: setup.queue,
      runTask: (task) => runTask({ source: store, work: store }, task),
      bucket: config.bucket,
      concurrency: config.concurrency,
      defaultChunkSize: config.chunkSize,
      inlineLimitBytes: INLINE_RESULT_LIMIT_BYTES,
      heartbeatMs: config.heartbeatMs,
      log,
      measure: () => startUsage(setup.meter, invocation.memoryMb ?? 0),
    };
  };

  const startRpc = async (
    store: ObjectStore,
    request: StartRequest,
    invocation: InvocationContext,
  ): Promise<Started> => {
    if (config.coordination !== 'rpc' || !setup.runner) {
      throw new ConfigurationError(
        'this orchestrator has no counter to invoke (WORDCOUNT_COUNTER_FUNCTION)',
      );
    }
    const result = await runJobOnce(
      {
        store,
        bucket: config.bucket,
        runner: setup.runner,
        taskFunction: config.counterFunction,
        concurrency: config.concurrency,
        defaultChunkSize: config.chunkSize,
        heartbeatMs: config.heartbeatMs,
        log,
        cost: { meter: setup.meter, prices: config.prices },
      },
      request,
      invocation,
    );
    if (result.outcome === 'superseded') return { ...result };
    if (result.outcome === 'published') setup.onPublished?.(result.summary);
    return { jobId: result.jobId, outcome: result.outcome, reply: result.summary };
  };

  const startQueued = async (
    store: ObjectStore,
    request: StartRequest,
    invocation: InvocationContext,
  ): Promise<Started> => {
    const started = await startQueuedJob(queueDeps(store, invocation), request, invocation.owner);
    const output = outputKeys(request.input);
    if (started.outcome === 'already-published') {
      const summary = await withTop(store, started.summary, output.counts, request.top);
      return { jobId: started.jobId, outcome: started.outcome, reply: summary };
    }
    return { ...started, reply: queuedReply(store, started, output) };
  };

  const served = (bucket: string): ObjectStore => {
    if (bucket !== config.bucket) {
      throw new UsageError(
        `bucket '${bucket}' is not served here: this orchestrator counts s3://${config.bucket}/`,
      );
    }
    return setup.storeOf(bucket);
  };

  /** Starts (RPC: runs) the job of `request` in `bucket`, the only bucket this one serves. */
  const start = (
    bucket: string,
    request: StartRequest,
    invocation: InvocationContext,
  ): Promise<Started> => {
    const store = served(bucket);
    return config.coordination === 'rpc'
      ? startRpc(store, request, invocation)
      : startQueued(store, request, invocation);
  };

  /**
   * What the job of `request` would do and cost: admitted as a start admits it (the same
   * chunk size, limits and errors), planned from sizes and names, and nothing written.
   */
  const plan = async (bucket: string, request: StartRequest): Promise<PlanSummary> => {
    const store = served(bucket);
    const job = await admit({ store, bucket, defaultChunkSize: config.chunkSize }, request);
    return dryPlanOfJob(job, {
      defaultChunkSize: config.chunkSize,
      width: config.concurrency,
      widthReason: `this deployment's counters at once (WORDCOUNT_CONCURRENCY, ${config.coordination} coordination)`,
      coordinations: [config.coordination],
      prices: config.prices,
    });
  };

  return {
    start,
    plan,

    /**
     * A direct request: the summary, or where the queued job is (a superseded job is an
     * error); with `dryRun`, the plan of the job.
     */
    async answer(
      bucket: string,
      request: StartRequest,
      invocation: InvocationContext,
    ): Promise<Summary | QueuedReply | PlanSummary | undefined> {
      if (request.dryRun) return plan(bucket, request);
      const started = await start(bucket, request, invocation);
      if (started.outcome === 'superseded') {
        throw new JobFailedError(
          `job ${started.jobId} for ${inputUri(bucket, request.input)} was superseded: ${started.reason}`,
        );
      }
      return started.reply;
    },

    /** The job of one upload of a notification; a line saying what became of it. */
    upload(
      upload: { bucket: string; key: string; version: string },
      invocation: InvocationContext,
    ): Promise<string> {
      return startUpload(
        {
          store: setup.storeOf(upload.bucket),
          bucket: upload.bucket,
          start: (request) => start(upload.bucket, request, invocation),
          log,
        },
        upload,
      );
    },

    /** A round of the watchdog (the schedule's event): every active job brought to an outcome. */
    async sweep(invocation: InvocationContext): Promise<SweepOutcome[]> {
      const store = setup.storeOf(config.bucket);
      const outcomes = await sweep({
        store,
        stallMs: config.stallMs,
        heartbeatMs: config.heartbeatMs,
        log,
        restart: (request) => start(config.bucket, request, invocation),
        ...(setup.queue && { queue: queueDeps(store, invocation) }),
      });
      for (const o of outcomes.filter((o) => o.action !== 'running' && o.action !== 'starting')) {
        log(`watchdog: job ${o.jobId}: ${o.action}${o.detail ? `: ${o.detail}` : ''}`, {
          jobId: o.jobId,
        });
      }
      return outcomes;
    },
  };
}
