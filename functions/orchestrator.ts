/**
 * Orchestrator Lambda: an S3 ObjectCreated notification (one job per record; a
 * `.manifest.json` upload is a job over the objects it names) or a direct invocation
 * `{bucket, key | prefix | keys, mode?, chunkSize?, top?, force?}`. It serves only its
 * configured bucket. With queue coordination (WORDCOUNT_COORDINATION=queue, the default)
 * it plans the job, sends its map tasks to the queue and answers {jobId, outcome,
 * status, output} at once (a job counted before answers its summary); with rpc it runs
 * the job to the end and answers the summary.
 */
import type { Context } from 'aws-lambda';
import { Resource } from 'sst';
import {
  createLambdaClient,
  createS3Client,
  createSqsClient,
  pathStyleFor,
} from '../lib/adapters/aws-clients.js';
import { LambdaRunner } from '../lib/adapters/lambda-runner.js';
import {
  createLogger,
  createMetrics,
  logTo,
  publishJobMetrics,
  taskKeys,
  withLogKeys,
} from '../lib/adapters/powertools.js';
import { S3ObjectStore } from '../lib/adapters/s3-store.js';
import { SqsTaskQueue } from '../lib/adapters/sqs-queue.js';
import { memoryOf, orchestratorConfig, sstLinksActive } from '../lib/config.js';
import {
  JobRequestSchema,
  parsePayload,
  S3EventSchema,
  type StartRequest,
  type Summary,
  SweepEventSchema,
  startRequestOf,
} from '../lib/contracts.js';
import { RequestMeter } from '../lib/cost/request-meter.js';
import { startUsage } from '../lib/cost/usage.js';
import { JobFailedError, messageOf, UsageError } from '../lib/errors.js';
import { INLINE_RESULT_LIMIT_BYTES } from '../lib/job/phases/map-results.js';
import { withTop } from '../lib/job/phases/summary.js';
import { queuedReply, type StartDeps, startQueuedJob } from '../lib/job/queue/start.js';
import { startUpload } from '../lib/job/uploads.js';
import { runJobOnce } from '../lib/job/rpc/rpc-job.js';
import { runTask } from '../lib/job/tasks/run-task.js';
import { sweep } from '../lib/job/watchdog.js';
import { createdObjects, inputUri, outputKeys } from '../lib/keys.js';
import type { QueuedReply } from '../lib/queue-contracts.js';

const config = orchestratorConfig(
  process.env,
  sstLinksActive(process.env)
    ? {
        bucket: Resource.Data.name,
        counterFunction: Resource.Counter.name,
        queueUrl: Resource.Tasks.url,
      }
    : {},
);
const meter = new RequestMeter();
const s3 = createS3Client({ maxSockets: 32, forcePathStyle: pathStyleFor(process.env), meter });
const logger = createLogger();
const log = logTo(logger);
const metrics = createMetrics();

/** The RPC way: this invocation runs the job to its end. */
function rpc(counterFunction: string) {
  const runner = new LambdaRunner(createLambdaClient({ maxSockets: config.concurrency, meter }), {
    concurrency: config.concurrency,
    timeoutMs: config.taskTimeoutMs,
    onRetry: ({ attempt, reason, payload }) =>
      log(`a task is invoked again (attempt ${attempt})`, { ...taskKeys(payload), reason }),
  });
  return async (store: S3ObjectStore, request: StartRequest, context?: Context) => {
    const result = await runJobOnce(
      {
        store,
        bucket: config.bucket,
        runner,
        taskFunction: counterFunction,
        concurrency: config.concurrency,
        defaultChunkSize: config.chunkSize,
        heartbeatMs: config.heartbeatMs,
        log,
        cost: { meter, prices: config.prices },
      },
      request,
      {
        owner: context?.awsRequestId,
        memoryMb: memoryOf(context, config.memoryMb),
        remainingMs: context && (() => context.getRemainingTimeInMillis()),
      },
    );
    if (result.outcome === 'superseded') {
      return { jobId: result.jobId, outcome: result.outcome, reason: result.reason };
    }
    if (result.outcome === 'published') publishJobMetrics(metrics, result.summary, 'rpc');
    return { jobId: result.jobId, outcome: result.outcome, reply: result.summary };
  };
}

const queue =
  config.coordination === 'queue'
    ? new SqsTaskQueue(createSqsClient({ maxSockets: 16, meter }), config.queueUrl)
    : undefined;

/** What the queue coordination's steps need here: the start, and the watchdog's resends. */
function queueDeps(store: S3ObjectStore, context?: Context): StartDeps {
  if (!queue) throw new UsageError('configuration: this orchestrator has no task queue');
  return {
    store,
    queue,
    runTask: (task) => runTask({ source: store, work: store }, task),
    bucket: config.bucket,
    concurrency: config.concurrency,
    defaultChunkSize: config.chunkSize,
    inlineLimitBytes: INLINE_RESULT_LIMIT_BYTES,
    heartbeatMs: config.heartbeatMs,
    log,
    measure: () => startUsage(meter, memoryOf(context, config.memoryMb)),
  };
}

/** The queue way: plan, send the map tasks, answer where the job's status and output are. */
function queued() {
  return async (store: S3ObjectStore, request: StartRequest, context?: Context) => {
    const started = await startQueuedJob(queueDeps(store, context), request, context?.awsRequestId);
    const output = outputKeys(request.input);
    if (started.outcome === 'already-published') {
      const summary = await withTop(store, started.summary, output.counts, request.top);
      return { jobId: started.jobId, outcome: started.outcome, reply: summary };
    }
    const reply = queuedReply(store, started, output);
    return { jobId: started.jobId, outcome: started.outcome, reply };
  };
}

const start = config.coordination === 'rpc' ? rpc(config.counterFunction) : queued();

interface Started {
  jobId: string;
  outcome: string;
  reply?: Summary | QueuedReply;
  /** Why a superseded job published nothing. */
  reason?: string;
}

function run(
  bucket: string,
  request: StartRequest,
  context: Context | undefined,
): Promise<Started> {
  if (bucket !== config.bucket) {
    throw new UsageError(
      `bucket '${bucket}' is not served here: this orchestrator counts s3://${config.bucket}/`,
    );
  }
  return start(new S3ObjectStore(s3, bucket), request, context);
}

/** A round of the watchdog (the schedule's event): every active job brought to an outcome. */
async function watch(context?: Context) {
  const store = new S3ObjectStore(s3, config.bucket);
  const outcomes = await sweep({
    store,
    stallMs: config.stallMs,
    heartbeatMs: config.heartbeatMs,
    log,
    restart: (request) => run(config.bucket, request, context),
    ...(queue && { queue: queueDeps(store, context) }),
  });
  for (const o of outcomes.filter((o) => o.action !== 'running' && o.action !== 'starting')) {
    log(`watchdog: job ${o.jobId}: ${o.action}${o.detail ? `: ${o.detail}` : ''}`, {
      jobId: o.jobId,
    });
  }
  return { swept: outcomes.length };
}

export async function handler(
  event: unknown,
  context?: Context,
): Promise<Summary | QueuedReply | { swept: number } | undefined> {
  if (SweepEventSchema.safeParse(event).success) {
    return withLogKeys(logger, context, { watchdog: 'sweep' }, () => watch(context));
  }
  if (typeof event === 'object' && event !== null && 'Records' in event) {
    const uploads = createdObjects(parsePayload(S3EventSchema, event, 'S3 event'));
    const failures: string[] = [];
    for (const upload of uploads) {
      const source = `s3://${upload.bucket}/${upload.key}`;
      await withLogKeys(logger, context, { source }, async () => {
        try {
          const done = await startUpload(
            {
              store: new S3ObjectStore(s3, upload.bucket),
              bucket: upload.bucket,
              start: (request) => run(upload.bucket, request, context),
              log,
            },
            upload,
          );
          log(done);
        } catch (error) {
          logger.error(`${source}: ${messageOf(error)}`, { error });
          failures.push(messageOf(error));
        }
      });
    }
    // One failure fails the invocation: Lambda retries it, and the jobs that succeeded
    // answer from their output.
    if (failures.length > 0) throw new JobFailedError(failures.join('; '));
    return undefined;
  }
  const { bucket, ...request } = startRequestOf(
    parsePayload(JobRequestSchema, event, 'job request'),
  );
  return withLogKeys(logger, context, {}, async () => {
    try {
      const started = await run(bucket, request, context);
      if (started.outcome === 'superseded') {
        throw new JobFailedError(
          `job ${started.jobId} for ${inputUri(bucket, request.input)} was superseded: ${started.reason}`,
        );
      }
      return started.reply;
    } catch (error) {
      logger.error(messageOf(error), { error });
      throw error;
    }
  });
}
