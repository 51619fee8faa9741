/**
 * Deploys the wordcount stack (bucket, counter and orchestrator functions, S3 trigger, and
 * for queue coordination the task queue, its dead-letter queue, the dead-letters function
 * and both event source mappings) to a local AWS emulator with plain AWS API calls only,
 * so it works unchanged against MiniStack, LocalStack or anything else at AWS_ENDPOINT_URL.
 *
 * Not for real AWS: the role below is a placeholder and nothing here manages IAM.
 * A real deploy is `sst deploy`.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AddPermissionCommand,
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  GetFunctionCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
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

// The SDK's notice that releases after early 2027 need Node 22: the lockfile pins the SDK.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4566';
export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_BUCKET = 'wordcount-local';
export const DEFAULT_PREFIX = 'wordcount-local';
export const INPUT_PREFIX = 'input/';
/** Emulators accept any role; real AWS would need an actual one (SST creates it). */
export const LOCAL_ROLE = 'arn:aws:iam::000000000000:role/wordcount-local';

const RUNTIME = 'nodejs22.x';
const HANDLER = 'index.handler';
// As in sst.config.ts: the counter runs map and reduce tasks (a gzip object is one task).
const COUNTER = { memorySize: 1769, timeout: 300 };
const ORCHESTRATOR = { memorySize: 3008, timeout: 900 };
const DEAD_LETTERS = { memorySize: 512, timeout: 60 };
/** As in sst.config.ts: a task message goes to the dead-letter queue after this many receives. */
export const MAX_RECEIVES = 3;
export const COORDINATIONS = ['queue', 'rpc'];
// Fixed zip timestamps keep the archive (and CodeSha256) stable for unchanged code.
const ZIP_MTIME = new Date('2020-01-01T00:00:00Z');
const WAIT = { minDelay: 1, maxDelay: 3 };

/** Endpoint, region and credentials for the emulator: arguments, then env, then defaults. */
export function localConfig({ endpoint, region } = {}) {
  const hasEnvCredentials = Boolean(process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE);
  return {
    endpoint: endpoint ?? process.env.AWS_ENDPOINT_URL ?? DEFAULT_ENDPOINT,
    region: region ?? DEFAULT_REGION,
    ...(hasEnvCredentials ? {} : { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
  };
}

/** S3 (path-style) and Lambda clients for the emulator. */
export function localClients(options = {}) {
  const config = localConfig(options);
  return {
    config,
    s3: new S3Client({ ...config, forcePathStyle: true }),
    lambda: new LambdaClient(config),
    sqs: new SQSClient(config),
  };
}

/**
 * Bundles a Lambda entry (TS or JS, relative to the project root) with everything it imports,
 * the AWS SDK included (emulators do not provide it), into a zip holding one `index.mjs`.
 */
export async function bundleFunction(entry, { sourcemap = false } = {}) {
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
  return Buffer.from(
    zipSync(
      { 'index.mjs': [file.contents, { mtime: ZIP_MTIME, os: 3, attrs: 0o100644 * 0x10000 }] },
      { level: 9 },
    ),
  );
}

const sha256 = (buffer) => createHash('sha256').update(buffer).digest('base64');

async function getFunction(lambda, name) {
  try {
    return await lambda.send(new GetFunctionCommand({ FunctionName: name }));
  } catch (error) {
    if (error?.name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/** Creates the function, or updates its code then its configuration. */
export async function upsertFunction(lambda, { name, zip, memorySize, timeout, environment }) {
  const settings = {
    Runtime: RUNTIME,
    Handler: HANDLER,
    Role: LOCAL_ROLE,
    MemorySize: memorySize,
    Timeout: timeout,
    Environment: { Variables: environment },
  };
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
    arn: Configuration.FunctionArn,
    action: existing ? 'updated' : 'created',
    codeSize: zip.length,
    codeSha256: sha256(zip),
  };
}

async function ensureBucket(s3, bucket, region) {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return 'exists';
  } catch (error) {
    if (error?.$metadata?.httpStatusCode !== 404) throw error;
  }
  await s3.send(
    new CreateBucketCommand({
      Bucket: bucket,
      ...(region === 'us-east-1'
        ? {}
        : { CreateBucketConfiguration: { LocationConstraint: region } }),
    }),
  );
  return 'created';
}

async function allowS3ToInvoke(lambda, name, bucket) {
  try {
    await lambda.send(
      new AddPermissionCommand({
        FunctionName: name,
        StatementId: `s3-invoke-${bucket}`,
        Action: 'lambda:InvokeFunction',
        Principal: 's3.amazonaws.com',
        SourceArn: `arn:aws:s3:::${bucket}`,
      }),
    );
  } catch (error) {
    // The statement is already there from an earlier deploy.
    if (error?.name !== 'ResourceConflictException') throw error;
  }
}

// PutBucketNotificationConfiguration replaces the whole set: keep everyone else's entries.
async function notifyOnInput(s3, bucket, id, functionArn) {
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
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: INPUT_PREFIX }] } },
          },
        ],
      },
    }),
  );
}

/** Creates the queue or brings its attributes up to date; returns its URL and ARN. */
async function ensureQueue(sqs, name, attributes) {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl, arn: Attributes.QueueArn };
}

/** The task queue and its dead-letter queue (redrive after MAX_RECEIVES receives). */
async function ensureQueues(sqs, prefix, visibilityTimeout) {
  const deadLetters = await ensureQueue(sqs, `${prefix}-dead-letters`, {
    VisibilityTimeout: String(Math.max(60, DEAD_LETTERS.timeout * 2)),
  });
  const tasks = await ensureQueue(sqs, `${prefix}-tasks`, {
    VisibilityTimeout: String(visibilityTimeout),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: deadLetters.arn,
      maxReceiveCount: MAX_RECEIVES,
    }),
  });
  return { tasks, deadLetters };
}

/** Feeds `queueArn` to the function, one message per invocation, failures per message. */
async function ensureMapping(lambda, functionName, queueArn, { batchSize, maximumConcurrency }) {
  const settings = {
    BatchSize: batchSize,
    FunctionResponseTypes: ['ReportBatchItemFailures'],
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

/**
 * Creates or updates the bucket, `${prefix}-counter`, `${prefix}-orchestrator` and (unless
 * `notify` is false) the `input/` ObjectCreated trigger on the orchestrator.
 * `counterName` points the orchestrator at another counter (e.g. a deliberately failing one);
 * `counterEntry: null` deploys no counter and leaves `counterName` as it is.
 * `coordination: 'queue'` (the default, as in sst.config.ts) adds `${prefix}-tasks` (visibility
 * timeout twice the counter's), `${prefix}-dead-letters`, `${prefix}-dead-letters` the function,
 * and the mappings from each queue to its function.
 *
 * @param {{ endpoint?: string, region?: string, bucket?: string, prefix?: string,
 *   chunkSize?: string, concurrency?: string, counterEntry?: string | null,
 *   orchestratorEntry?: string, counterName?: string, orchestratorName?: string,
 *   coordination?: 'queue' | 'rpc', counterTimeout?: number,
 *   notify?: boolean, environment?: Record<string, string>, log?: (message: string) => void }} [options]
 */
export async function deployStack({
  endpoint,
  region,
  bucket = DEFAULT_BUCKET,
  prefix = DEFAULT_PREFIX,
  chunkSize = '16MiB',
  concurrency = '8',
  counterEntry = 'functions/counter.ts',
  orchestratorEntry = 'functions/orchestrator.ts',
  counterName = `${prefix}-counter`,
  orchestratorName = `${prefix}-orchestrator`,
  coordination = 'queue',
  counterTimeout = COUNTER.timeout,
  notify = true,
  environment = {},
  log = () => {},
} = {}) {
  if (!COORDINATIONS.includes(coordination)) {
    throw new Error(`coordination must be queue or rpc, got '${coordination}'`);
  }
  const queued = coordination === 'queue';
  const { config, s3, lambda, sqs } = localClients({ endpoint, region });
  try {
    const started = Date.now();
    const [counterZip, orchestratorZip, deadLettersZip] = await Promise.all([
      counterEntry ? bundleFunction(counterEntry) : undefined,
      bundleFunction(orchestratorEntry),
      queued ? bundleFunction('functions/dead-letters.ts') : undefined,
    ]);
    log(`bundled in ${Date.now() - started} ms`);

    const bucketAction = await ensureBucket(s3, bucket, config.region);
    log(`bucket ${bucket}: ${bucketAction}`);

    let queues;
    if (queued) {
      queues = await ensureQueues(sqs, prefix, 2 * counterTimeout);
      log(`queues ${prefix}-tasks, ${prefix}-dead-letters (after ${MAX_RECEIVES} receives)`);
    }
    const queueEnvironment = queues ? { WORDCOUNT_QUEUE_URL: queues.tasks.url } : {};

    let counter;
    if (counterZip) {
      counter = await upsertFunction(lambda, {
        name: counterName,
        zip: counterZip,
        ...COUNTER,
        timeout: counterTimeout,
        environment: {
          WORDCOUNT_BUCKET: bucket,
          ...queueEnvironment,
          ...(environment.WORDCOUNT_HEARTBEAT_SECONDS && {
            WORDCOUNT_HEARTBEAT_SECONDS: environment.WORDCOUNT_HEARTBEAT_SECONDS,
          }),
        },
      });
      log(`function ${counter.name}: ${counter.action} (${counter.codeSize} bytes)`);
    }
    let deadLetters;
    if (queues) {
      deadLetters = await upsertFunction(lambda, {
        name: `${prefix}-dead-letters`,
        zip: deadLettersZip,
        ...DEAD_LETTERS,
        environment: { WORDCOUNT_BUCKET: bucket },
      });
      log(`function ${deadLetters.name}: ${deadLetters.action}`);
      const consumers = Math.max(2, Number(concurrency));
      const taskMapping = await ensureMapping(lambda, counterName, queues.tasks.arn, {
        batchSize: 1,
        maximumConcurrency: consumers,
      });
      const deadMapping = await ensureMapping(lambda, deadLetters.name, queues.deadLetters.arn, {
        batchSize: 10,
        maximumConcurrency: 2,
      });
      log(
        `mappings ${prefix}-tasks -> ${counterName}: ${taskMapping}, dead letters: ${deadMapping}`,
      );
    }
    const orchestrator = await upsertFunction(lambda, {
      name: orchestratorName,
      zip: orchestratorZip,
      ...ORCHESTRATOR,
      environment: {
        WORDCOUNT_BUCKET: bucket,
        WORDCOUNT_COUNTER_FUNCTION: counterName,
        WORDCOUNT_CHUNK_SIZE: String(chunkSize),
        WORDCOUNT_CONCURRENCY: String(concurrency),
        WORDCOUNT_TASK_TIMEOUT_SECONDS: String(counterTimeout + 30),
        WORDCOUNT_COORDINATION: coordination,
        ...queueEnvironment,
        ...environment,
      },
    });
    log(`function ${orchestrator.name}: ${orchestrator.action} (${orchestrator.codeSize} bytes)`);

    await allowS3ToInvoke(lambda, orchestrator.name, bucket);
    if (notify) {
      await notifyOnInput(s3, bucket, `${orchestrator.name}-input`, orchestrator.arn);
      log(`trigger s3://${bucket}/${INPUT_PREFIX}* -> ${orchestrator.name}`);
    }
    return {
      endpoint: config.endpoint,
      region: config.region,
      bucket: { name: bucket, action: bucketAction },
      counter,
      orchestrator,
      coordination,
      queues,
      deadLetters,
      notify,
      elapsedMs: Date.now() - started,
    };
  } finally {
    s3.destroy();
    lambda.destroy();
    sqs.destroy();
  }
}
