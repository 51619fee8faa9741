/**
 * The AWS resources of the local stack, each created or brought up to date with plain AWS
 * API calls (so MiniStack, LocalStack or anything at AWS_ENDPOINT_URL will do): the
 * functions (bundled with esbuild), the bucket and its trigger, the queues and their
 * mappings, and the watchdog's schedule.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import {
  type EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  AddPermissionCommand,
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  GetFunctionCommand,
  type LambdaClient,
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
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { build } from 'esbuild';
import { zipSync } from 'fflate';
import { SWEEP_EVENT } from '../lib/topology.js';
import { installedFiles } from './function-packages.js';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
/** Emulators accept any role; real AWS would need an actual one (SST creates it). */
export const LOCAL_ROLE = 'arn:aws:iam::000000000000:role/wordcount-local';
/** An emulator has no five-minute patience: the watchdog sweeps every minute here. */
export const LOCAL_SWEEP = 'rate(1 minute)';
const RUNTIME = 'nodejs22.x';
const HANDLER = 'index.handler';
// Fixed zip timestamps keep the archive (and CodeSha256) stable for unchanged code.
const ZIP_MTIME = new Date('2020-01-01T00:00:00Z');
const WAIT = { minDelay: 1, maxDelay: 3 };

/**
 * Bundles a Lambda entry (TS or JS, relative to the project root) with everything it imports,
 * the AWS SDK included (emulators do not provide it), into a zip holding one `index.mjs`,
 * and `install`'s packages in node_modules/ (left out of the bundle: native addons).
 */
export async function bundleFunction(
  entry: string,
  { sourcemap = false, install = [] as readonly string[] } = {},
): Promise<Buffer> {
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
    external: [...install],
    // CommonJS dependencies call require(); ESM output has none unless we make one.
    banner: {
      js: "import { createRequire as __wcCreateRequire } from 'node:module';\nconst require = __wcCreateRequire(import.meta.url);",
    },
  });
  const [file] = result.outputFiles;
  if (!file) throw new Error(`esbuild produced nothing for ${entry}`);
  const entryOptions = { mtime: ZIP_MTIME, os: 3, attrs: 0o100644 * 0x10000 };
  const zipped: Record<string, [Uint8Array, typeof entryOptions]> = {
    'index.mjs': [file.contents, entryOptions],
  };
  for (const [name, bytes] of installedFiles(ROOT, install)) zipped[name] = [bytes, entryOptions];
  return Buffer.from(zipSync(zipped, { level: 9 }));
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

export async function ensureBucket(s3: S3Client, bucket: string, region: string) {
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
export async function allowInvoke(
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
export async function notifyOnInput(s3: S3Client, bucket: string, id: string, functionArn: string) {
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
export async function ensureQueue(
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
export async function ensureMapping(
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
export async function scheduleSweeps(
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
