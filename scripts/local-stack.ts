/**
 * Deploys the wordcount stack to a local AWS emulator with plain AWS API calls only, so it
 * works unchanged against MiniStack, LocalStack or anything else at AWS_ENDPOINT_URL: the
 * bucket, the counter and orchestrator functions, the S3 trigger, the dead-letter queue and
 * its function (which also takes the orchestrator's failed notifications), the watchdog's
 * schedule, and for queue coordination the task queue and its mapping. Sizes, timeouts and
 * queue settings come from lib/topology.ts, as sst.config.ts's do.
 *
 * Not for real AWS: the role below is a placeholder and nothing here manages IAM.
 * A real deploy is `sst deploy`.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  DeleteFunctionConcurrencyCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  COUNTER,
  DEAD_LETTERS,
  DEFAULT_CHUNK_SIZE,
  MAX_RECEIVES,
  ORCHESTRATOR,
  stallSeconds,
  taskTimeoutSeconds,
  visibilitySeconds,
} from '../lib/topology.js';
import { COUNTER_INSTALL } from './function-packages.js';
import {
  allowInvoke,
  bundleFunction,
  type DeployedFunction,
  ensureBucket,
  ensureMapping,
  ensureQueue,
  LOCAL_SWEEP,
  notifyOnInput,
  scheduleSweeps,
  upsertFunction,
} from './local-aws.js';

// The SDK's notice that releases after early 2027 need Node 22: the lockfile pins the SDK.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4566';
export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_BUCKET = 'wordcount-local';
export const DEFAULT_PREFIX = 'wordcount-local';
export const COORDINATIONS = ['queue', 'rpc'] as const;
export type Coordination = (typeof COORDINATIONS)[number];

export interface LocalConfig {
  endpoint: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** Endpoint, region and credentials for the emulator: arguments, then env, then defaults. */
export function localConfig({
  endpoint,
  region,
}: {
  endpoint?: string;
  region?: string;
} = {}): LocalConfig {
  const hasEnvCredentials = Boolean(process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE);
  return {
    endpoint: endpoint ?? process.env.AWS_ENDPOINT_URL ?? DEFAULT_ENDPOINT,
    region: region ?? DEFAULT_REGION,
    ...(hasEnvCredentials ? {} : { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
  };
}

/** S3 (path-style), Lambda, SQS and EventBridge clients for the emulator. */
export function localClients(options: { endpoint?: string; region?: string } = {}) {
  const config = localConfig(options);
  return {
    config,
    s3: new S3Client({ ...config, forcePathStyle: true }),
    lambda: new LambdaClient(config),
    sqs: new SQSClient(config),
    events: new EventBridgeClient(config),
  };
}

export interface DeployOptions {
  endpoint?: string;
  region?: string;
  bucket?: string;
  prefix?: string;
  chunkSize?: string;
  /** Counters at once (the mapping's maximum concurrency; rpc's invocations in flight). */
  concurrency?: string;
  /** The counter's entry; null deploys none and leaves `counterName` as it is. */
  counterEntry?: string | null;
  orchestratorEntry?: string;
  counterName?: string;
  orchestratorName?: string;
  coordination?: Coordination;
  counterTimeout?: number;
  /** Reserved concurrency of the counter (none by default, as on AWS). */
  counterReserved?: number;
  /** Off: no S3 trigger (a stack invoked directly). */
  notify?: boolean;
  /** Off: no watchdog schedule (tests that sweep themselves). */
  schedule?: boolean;
  environment?: Record<string, string>;
  log?: (message: string) => void;
}

/** A function's settings as the local stack deploys it. */
export interface FunctionPlan {
  memorySize: number;
  timeout: number;
  environment: Record<string, string>;
}

/**
 * What the local stack deploys for `options`, from lib/topology.ts as sst.config.ts does
 * (a test holds the two side by side): the functions' sizes, timeouts and settings, the
 * task queue's visibility timeout and redrive, the mappings' batches.
 */
export function localPlan(options: {
  bucket: string;
  counterName: string;
  coordination: Coordination;
  counterTimeout: number;
  chunkSize: string;
  concurrency: string;
  environment: Record<string, string>;
}) {
  const { counterTimeout, environment } = options;
  const heartbeat = environment.WORDCOUNT_HEARTBEAT_SECONDS;
  return {
    counter: {
      memorySize: COUNTER.memoryMb,
      timeout: counterTimeout,
      environment: {
        WORDCOUNT_BUCKET: options.bucket,
        WORDCOUNT_MEMORY_MB: String(COUNTER.memoryMb),
        ...(heartbeat && { WORDCOUNT_HEARTBEAT_SECONDS: heartbeat }),
      },
    } satisfies FunctionPlan,
    orchestrator: {
      memorySize: ORCHESTRATOR.memoryMb,
      timeout: ORCHESTRATOR.timeoutSeconds,
      environment: {
        WORDCOUNT_BUCKET: options.bucket,
        WORDCOUNT_COUNTER_FUNCTION: options.counterName,
        WORDCOUNT_CHUNK_SIZE: options.chunkSize,
        WORDCOUNT_CONCURRENCY: options.concurrency,
        WORDCOUNT_TASK_TIMEOUT_SECONDS: String(taskTimeoutSeconds(counterTimeout)),
        WORDCOUNT_STALL_SECONDS: String(stallSeconds(counterTimeout)),
        WORDCOUNT_MEMORY_MB: String(ORCHESTRATOR.memoryMb),
        WORDCOUNT_COORDINATION: options.coordination,
        ...environment,
      },
    } satisfies FunctionPlan,
    /** Retries of an S3 notification before it goes to the dead letters. */
    orchestratorRetries: 2,
    deadLetters: {
      memorySize: DEAD_LETTERS.memoryMb,
      timeout: DEAD_LETTERS.timeoutSeconds,
      environment: { WORDCOUNT_BUCKET: options.bucket },
    } satisfies FunctionPlan,
    tasks: {
      visibilitySeconds: visibilitySeconds(counterTimeout),
      maxReceives: MAX_RECEIVES,
      batchSize: 1,
      maximumConcurrency: Math.max(2, Number(options.concurrency)),
    },
    deadLetterQueue: {
      visibilitySeconds: Math.max(60, DEAD_LETTERS.timeoutSeconds * 2),
      batchSize: 10,
    },
  };
}

/**
 * Creates or updates the bucket, `${prefix}-counter`, `${prefix}-orchestrator`,
 * `${prefix}-dead-letters` (queue and function), the orchestrator's on-failure destination,
 * the watchdog's schedule and (unless `notify` is false) the `input/` ObjectCreated trigger.
 * `coordination: 'queue'` (the default, as in sst.config.ts) adds `${prefix}-tasks` and its
 * mapping to the counter.
 */
export async function deployStack({
  endpoint,
  region,
  bucket = DEFAULT_BUCKET,
  prefix = DEFAULT_PREFIX,
  chunkSize = DEFAULT_CHUNK_SIZE,
  concurrency = '8',
  counterEntry = 'functions/counter.ts',
  orchestratorEntry = 'functions/orchestrator.ts',
  counterName = `${prefix}-counter`,
  orchestratorName = `${prefix}-orchestrator`,
  coordination = 'queue',
  counterTimeout = COUNTER.timeoutSeconds,
  counterReserved,
  notify = true,
  schedule = true,
  environment = {},
  log = () => {},
}: DeployOptions = {}) {
  if (!COORDINATIONS.includes(coordination)) {
    throw new Error(`coordination must be queue or rpc, got '${coordination}'`);
  }
  const queued = coordination === 'queue';
  const plan = localPlan({
    bucket,
    counterName,
    coordination,
    counterTimeout,
    chunkSize,
    concurrency,
    environment,
  });
  const { config, s3, lambda, sqs, events } = localClients({ endpoint, region });
  try {
    const started = Date.now();
    const [counterZip, orchestratorZip, deadLettersZip] = await Promise.all([
      counterEntry ? bundleFunction(counterEntry, { install: COUNTER_INSTALL }) : undefined,
      bundleFunction(orchestratorEntry),
      bundleFunction('functions/dead-letters.ts'),
    ]);
    log(`bundled in ${Date.now() - started} ms`);

    const bucketAction = await ensureBucket(s3, bucket, config.region);
    log(`bucket ${bucket}: ${bucketAction}`);

    const deadLetterQueue = await ensureQueue(sqs, `${prefix}-dead-letters`, {
      VisibilityTimeout: String(plan.deadLetterQueue.visibilitySeconds),
    });
    const tasks = queued
      ? await ensureQueue(sqs, `${prefix}-tasks`, {
          VisibilityTimeout: String(plan.tasks.visibilitySeconds),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: deadLetterQueue.arn,
            maxReceiveCount: plan.tasks.maxReceives,
          }),
        })
      : undefined;
    log(
      `queues ${queued ? `${prefix}-tasks (after ${plan.tasks.maxReceives} receives) and ` : ''}${prefix}-dead-letters`,
    );
    const queueEnvironment: Record<string, string> = tasks
      ? { WORDCOUNT_QUEUE_URL: tasks.url }
      : {};

    let counter: DeployedFunction | undefined;
    if (counterZip) {
      counter = await upsertFunction(lambda, {
        name: counterName,
        zip: counterZip,
        ...plan.counter,
        environment: { ...plan.counter.environment, ...queueEnvironment },
      });
      log(`function ${counter.name}: ${counter.action} (${counter.codeSize} bytes)`);
      // As on AWS, nothing is reserved unless asked; a test holds the counter to less.
      if (counterReserved === undefined) {
        await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: counterName }));
      } else {
        await lambda.send(
          new PutFunctionConcurrencyCommand({
            FunctionName: counterName,
            ReservedConcurrentExecutions: counterReserved,
          }),
        );
      }
    }
    const deadLetters = await upsertFunction(lambda, {
      name: `${prefix}-dead-letters`,
      zip: deadLettersZip,
      ...plan.deadLetters,
    });
    log(`function ${deadLetters.name}: ${deadLetters.action}`);
    const deadMapping = await ensureMapping(lambda, deadLetters.name, deadLetterQueue.arn, {
      batchSize: plan.deadLetterQueue.batchSize,
      maximumConcurrency: 2,
    });
    if (tasks) {
      const taskMapping = await ensureMapping(lambda, counterName, tasks.arn, {
        batchSize: plan.tasks.batchSize,
        maximumConcurrency: plan.tasks.maximumConcurrency,
      });
      log(
        `mappings ${prefix}-tasks -> ${counterName}: ${taskMapping}, dead letters: ${deadMapping}`,
      );
    }
    const orchestrator = await upsertFunction(lambda, {
      name: orchestratorName,
      zip: orchestratorZip,
      ...plan.orchestrator,
      environment: { ...plan.orchestrator.environment, ...queueEnvironment },
    });
    log(`function ${orchestrator.name}: ${orchestrator.action} (${orchestrator.codeSize} bytes)`);
    // An S3 notification it fails on every attempt goes to the dead letters, as on AWS.
    await lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: orchestrator.name,
        MaximumRetryAttempts: plan.orchestratorRetries,
        DestinationConfig: { OnFailure: { Destination: deadLetterQueue.arn } },
      }),
    );
    const rule = schedule ? await scheduleSweeps(events, lambda, prefix, orchestrator) : undefined;
    if (rule) log(`watchdog ${rule}: ${LOCAL_SWEEP} -> ${orchestrator.name}`);

    await allowInvoke(
      lambda,
      orchestrator.name,
      `s3-invoke-${bucket}`,
      's3.amazonaws.com',
      `arn:aws:s3:::${bucket}`,
    );
    if (notify) {
      await notifyOnInput(s3, bucket, `${orchestrator.name}-input`, orchestrator.arn);
      log(`trigger s3://${bucket}/input/* -> ${orchestrator.name}`);
    }
    return {
      endpoint: config.endpoint,
      region: config.region,
      bucket: { name: bucket, action: bucketAction },
      counter,
      orchestrator,
      coordination,
      queues: { tasks, deadLetters: deadLetterQueue },
      deadLetters,
      notify,
      elapsedMs: Date.now() - started,
    };
  } finally {
    s3.destroy();
    lambda.destroy();
    sqs.destroy();
    events.destroy();
  }
}
