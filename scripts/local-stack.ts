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
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  AddPermissionCommand,
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  GetFunctionCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateEventSourceMappingCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import {
  CreateBucketCommand,
  GetBucketNotificationConfigurationCommand,
  HeadBucketCommand,
  PutBucketNotificationConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { build } from 'esbuild';
import { zipSync } from 'fflate';
import {
  COUNTER,
  DEAD_LETTERS,
  DEFAULT_CHUNK_SIZE,
  MAX_RECEIVES,
  ORCHESTRATOR,
  SWEEP_EVENT,
  stallSeconds,
  taskTimeoutSeconds,
  visibilitySeconds,
} from '../lib/topology.js';

// The SDK's notice that releases after early 2027 need Node 22: the lockfile pins the SDK.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export { INPUT_PREFIX, MAX_RECEIVES } from '../lib/topology.js';
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4566';
export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_BUCKET = 'wordcount-local';
export const DEFAULT_PREFIX = 'wordcount-local';
/** Emulators accept any role; real AWS would need an actual one (SST creates it). */
export const LOCAL_ROLE = 'arn:aws:iam::000000000000:role/wordcount-local';
export const COORDINATIONS = ['queue', 'rpc'] as const;
export type Coordination = (typeof COORDINATIONS)[number];

const RUNTIME = 'nodejs22.x';
const HANDLER = 'index.handler';
// Fixed zip timestamps keep the archive (and CodeSha256) stable for unchanged code.
const ZIP_MTIME = new Date('2020-01-01T00:00:00Z');
const WAIT = { minDelay: 1, maxDelay: 3 };
/** An emulator has no five-minute patience: the watchdog sweeps every minute here. */
const LOCAL_SWEEP = 'rate(1 minute)';

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

/**
 * Bundles a Lambda entry (TS or JS, relative to the project root) with everything it imports,
 * the AWS SDK included (emulators do not provide it), into a zip holding one `index.mjs`.
 */
export async function bundleFunction(entry: string, { sourcemap = false } = {}): Promise<Buffer> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [path.resolve(ROOT, entry)],
    outfile: 'index.mjs',
    bundle: true,
    write: false,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    mainFields: ['module', 'main'],
    // Entries outside the project (test fixtures in a temp dir) still get its dependencies.
    nodePaths: [path.join(ROOT, 'node_modules')],
    minify: false,
    sourcemap: sourcemap ? 'inline' : false,
    legalComments: 'none',
    logLevel: 'warning',
    // CommonJS dependencies call require(); ESM output has none unless we make one.
    banner: {
      js: "import { createRequire as __wcCreateRequire } from 'node:module';\nconst require = __wcCreateRequire(import.meta.url);",
    },
  });
  const [file] = result.outputFiles;
  if (!file) throw new Error(`esbuild produced nothing for ${entry}`);
  return Buffer.from(
    zipSync(
      { 'index.mjs': [file.contents, { mtime: ZIP_MTIME, os: 3, attrs: 0o100644 * 0x10000 }] },
      { level: 9 },
    ),
  );
}

const sha256 = (buffer: Buffer) => createHash('sha256').update(buffer).digest('base64');
const errorName = (error: unknown) => (error as { name?: string } | undefined)?.name;

async function getFunction(lambda: LambdaClient, name: string) {
  try {
    return await lambda.send(new GetFunctionCommand({ FunctionName: name }));
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

export interface DeployedFunction {
  name: string;
  arn: string;
  action: 'created' | 'updated';
  codeSize: number;
  codeSha256: string;
}

/** Creates the function, or updates its code then its configuration. */
export async function upsertFunction(
  lambda: LambdaClient,
  options: {
    name: string;
    zip: Buffer;
    memorySize: number;
    timeout: number;
    environment: Record<string, string>;
  },
): Promise<DeployedFunction> {
  const { name, zip } = options;
  const settings = {
    Runtime: RUNTIME,
    Handler: HANDLER,
    Role: LOCAL_ROLE,
    MemorySize: options.memorySize,
    Timeout: options.timeout,
    Environment: { Variables: options.environment },
  } as const;
  const waiter = { client: lambda, ...WAIT };
  const existing = await getFunction(lambda, name);
  if (!existing) {
    await lambda.send(
      new CreateFunctionCommand({ FunctionName: name, Code: { ZipFile: zip }, ...settings }),
    );
    await waitUntilFunctionActiveV2({ ...waiter, maxWaitTime: 300 }, { FunctionName: name });
  } else {
    if (existing.Configuration?.LastUpdateStatus === 'InProgress') {
      await waitUntilFunctionUpdatedV2({ ...waiter, maxWaitTime: 300 }, { FunctionName: name });
    }
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip }));
    await waitUntilFunctionUpdatedV2({ ...waiter, maxWaitTime: 300 }, { FunctionName: name });
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, ...settings }));
    await waitUntilFunctionUpdatedV2({ ...waiter, maxWaitTime: 300 }, { FunctionName: name });
  }
  const { Configuration } = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
  return {
    name,
    arn: Configuration?.FunctionArn ?? '',
    action: existing ? 'updated' : 'created',
    codeSize: zip.length,
    codeSha256: sha256(zip),
  };
}

async function ensureBucket(s3: S3Client, bucket: string, region: string) {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return 'exists';
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404)
      throw error;
  }
  await s3.send(
    new CreateBucketCommand({
      Bucket: bucket,
      ...(region === 'us-east-1'
        ? {}
        : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
    }),
  );
  return 'created';
}

/** Lets `principal` (S3, EventBridge) invoke the function; an existing statement is kept. */
async function allowInvoke(
  lambda: LambdaClient,
  name: string,
  statement: string,
  principal: string,
  sourceArn: string,
) {
  try {
    await lambda.send(
      new AddPermissionCommand({
        FunctionName: name,
        StatementId: statement,
        Action: 'lambda:InvokeFunction',
        Principal: principal,
        SourceArn: sourceArn,
      }),
    );
  } catch (error) {
    // The statement is already there from an earlier deploy.
    if (errorName(error) !== 'ResourceConflictException') throw error;
  }
}

// PutBucketNotificationConfiguration replaces the whole set: keep everyone else's entries.
async function notifyOnInput(s3: S3Client, bucket: string, id: string, functionArn: string) {
  const current = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
  const others = (current.LambdaFunctionConfigurations ?? []).filter(
    (c) => c.Id !== id && c.LambdaFunctionArn !== functionArn,
  );
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        TopicConfigurations: current.TopicConfigurations,
        QueueConfigurations: current.QueueConfigurations,
        EventBridgeConfiguration: current.EventBridgeConfiguration,
        LambdaFunctionConfigurations: [
          ...others,
          {
            Id: id,
            LambdaFunctionArn: functionArn,
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'input/' }] } },
          },
        ],
      },
    }),
  );
}

export interface Queue {
  url: string;
  arn: string;
}

/** Creates the queue or brings its attributes up to date; returns its URL and ARN. */
async function ensureQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<Queue> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error(`no URL for queue ${name}`);
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl, arn: Attributes?.QueueArn ?? '' };
}

/** Feeds `queueArn` to the function, one message per invocation, failures per message. */
async function ensureMapping(
  lambda: LambdaClient,
  functionName: string,
  queueArn: string,
  { batchSize, maximumConcurrency }: { batchSize: number; maximumConcurrency: number },
) {
  const settings = {
    BatchSize: batchSize,
    FunctionResponseTypes: ['ReportBatchItemFailures' as const],
    ScalingConfig: { MaximumConcurrency: maximumConcurrency },
    Enabled: true,
  };
  const { EventSourceMappings = [] } = await lambda.send(
    new ListEventSourceMappingsCommand({ FunctionName: functionName, EventSourceArn: queueArn }),
  );
  const [existing] = EventSourceMappings;
  if (existing) {
    await lambda.send(
      new UpdateEventSourceMappingCommand({
        UUID: existing.UUID,
        FunctionName: functionName,
        ...settings,
      }),
    );
    return 'updated';
  }
  await lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: functionName,
      EventSourceArn: queueArn,
      ...settings,
    }),
  );
  return 'created';
}

/** The watchdog's schedule: the orchestrator with the sweep event, every minute. */
async function scheduleSweeps(
  events: EventBridgeClient,
  lambda: LambdaClient,
  prefix: string,
  orchestrator: DeployedFunction,
) {
  const rule = `${prefix}-watchdog`;
  const { RuleArn } = await events.send(
    new PutRuleCommand({ Name: rule, ScheduleExpression: LOCAL_SWEEP, State: 'ENABLED' }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: rule,
      Targets: [{ Id: 'orchestrator', Arn: orchestrator.arn, Input: JSON.stringify(SWEEP_EVENT) }],
    }),
  );
  await allowInvoke(
    lambda,
    orchestrator.name,
    `events-${rule}`,
    'events.amazonaws.com',
    RuleArn ?? '',
  );
  return rule;
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
  const { config, s3, lambda, sqs, events } = localClients({ endpoint, region });
  try {
    const started = Date.now();
    const [counterZip, orchestratorZip, deadLettersZip] = await Promise.all([
      counterEntry ? bundleFunction(counterEntry) : undefined,
      bundleFunction(orchestratorEntry),
      bundleFunction('functions/dead-letters.ts'),
    ]);
    log(`bundled in ${Date.now() - started} ms`);

    const bucketAction = await ensureBucket(s3, bucket, config.region);
    log(`bucket ${bucket}: ${bucketAction}`);

    const deadLetterQueue = await ensureQueue(sqs, `${prefix}-dead-letters`, {
      VisibilityTimeout: String(Math.max(60, DEAD_LETTERS.timeoutSeconds * 2)),
    });
    const tasks = queued
      ? await ensureQueue(sqs, `${prefix}-tasks`, {
          VisibilityTimeout: String(visibilitySeconds(counterTimeout)),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: deadLetterQueue.arn,
            maxReceiveCount: MAX_RECEIVES,
          }),
        })
      : undefined;
    log(
      `queues ${queued ? `${prefix}-tasks (after ${MAX_RECEIVES} receives) and ` : ''}${prefix}-dead-letters`,
    );
    const queueEnvironment: Record<string, string> = tasks
      ? { WORDCOUNT_QUEUE_URL: tasks.url }
      : {};

    let counter: DeployedFunction | undefined;
    if (counterZip) {
      counter = await upsertFunction(lambda, {
        name: counterName,
        zip: counterZip,
        memorySize: COUNTER.memoryMb,
        timeout: counterTimeout,
        environment: {
          WORDCOUNT_BUCKET: bucket,
          WORDCOUNT_MEMORY_MB: String(COUNTER.memoryMb),
          ...queueEnvironment,
          ...(environment.WORDCOUNT_HEARTBEAT_SECONDS && {
            WORDCOUNT_HEARTBEAT_SECONDS: environment.WORDCOUNT_HEARTBEAT_SECONDS,
          }),
        },
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
      memorySize: DEAD_LETTERS.memoryMb,
      timeout: DEAD_LETTERS.timeoutSeconds,
      environment: { WORDCOUNT_BUCKET: bucket },
    });
    log(`function ${deadLetters.name}: ${deadLetters.action}`);
    const deadMapping = await ensureMapping(lambda, deadLetters.name, deadLetterQueue.arn, {
      batchSize: 10,
      maximumConcurrency: 2,
    });
    if (tasks) {
      const taskMapping = await ensureMapping(lambda, counterName, tasks.arn, {
        batchSize: 1,
        maximumConcurrency: Math.max(2, Number(concurrency)),
      });
      log(
        `mappings ${prefix}-tasks -> ${counterName}: ${taskMapping}, dead letters: ${deadMapping}`,
      );
    }
    const orchestrator = await upsertFunction(lambda, {
      name: orchestratorName,
      zip: orchestratorZip,
      memorySize: ORCHESTRATOR.memoryMb,
      timeout: ORCHESTRATOR.timeoutSeconds,
      environment: {
        WORDCOUNT_BUCKET: bucket,
        WORDCOUNT_COUNTER_FUNCTION: counterName,
        WORDCOUNT_CHUNK_SIZE: String(chunkSize),
        WORDCOUNT_CONCURRENCY: String(concurrency),
        WORDCOUNT_TASK_TIMEOUT_SECONDS: String(taskTimeoutSeconds(counterTimeout)),
        WORDCOUNT_STALL_SECONDS: String(stallSeconds(counterTimeout)),
        WORDCOUNT_MEMORY_MB: String(ORCHESTRATOR.memoryMb),
        WORDCOUNT_COORDINATION: coordination,
        ...queueEnvironment,
        ...environment,
      },
    });
    log(`function ${orchestrator.name}: ${orchestrator.action} (${orchestrator.codeSize} bytes)`);
    // An S3 notification it fails on every attempt goes to the dead letters, as on AWS.
    await lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: orchestrator.name,
        MaximumRetryAttempts: 2,
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
