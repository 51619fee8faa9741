/** Clients and helpers for the emulator, over plain AWS APIs. */
import { readdirSync, readFileSync } from 'node:fs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import type { Summary } from '../../lib/contracts/summary.js';

export const BUCKET = 'wordcount-local';
export const ORCHESTRATOR = 'wordcount-local-orchestrator';
export const COUNTER = 'wordcount-local-counter';
export const FAILING_ORCHESTRATOR = 'wordcount-failing-orchestrator';
export const FAILING_COUNTER = 'wordcount-failing-counter';
/** The stack with queue coordination, in a bucket of its own. */
export const QUEUE_BUCKET = 'wordcount-queue';
export const QUEUE_PREFIX = 'wordcount-queue';
export const QUEUE_ORCHESTRATOR = `${QUEUE_PREFIX}-orchestrator`;
/** Its counter's timeout: short, so a message whose counter died comes back in 12 s. */
export const QUEUE_COUNTER_TIMEOUT_SECONDS = 6;
/** The job suite's stacks: buckets of their own, no trigger (test/e2e/job-suite.test.ts). */
export const SUITE_RPC = {
  bucket: 'wordcount-suite-rpc',
  orchestrator: 'wordcount-suite-rpc-orchestrator',
  counter: 'wordcount-suite-rpc-counter',
};
export const SUITE_QUEUE = {
  bucket: 'wordcount-suite-queue',
  orchestrator: 'wordcount-suite-queue-orchestrator',
  counter: 'wordcount-suite-queue-counter',
};
/** How long its jobs may make no progress before the watchdog sends their lost messages again. */
export const QUEUE_STALL_SECONDS = 15;

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

export function clients(endpoint: string) {
  const region = 'us-east-1';
  return {
    s3: new S3Client({ endpoint, region, credentials, forcePathStyle: true }),
    lambda: new LambdaClient({ endpoint, region, credentials, maxAttempts: 1 }),
  };
}

/** The environment a user sets to point the CLI (or the aws CLI) at the emulator. */
export function emulatorEnv(endpoint: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  };
}

export async function upload(
  s3: S3Client,
  key: string,
  body: Uint8Array | string,
  bucket = BUCKET,
  metadata?: Record<string, string>,
): Promise<{ etag: string }> {
  const out = await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: metadata }),
  );
  return { etag: out.ETag ?? '' };
}

export async function download(
  s3: S3Client,
  key: string,
  bucket = BUCKET,
): Promise<string | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await out.Body?.transformToString('utf-8');
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

/** Polls until `key` exists (the real trigger path is asynchronous). */
export async function waitFor(s3: S3Client, key: string, timeoutMs = 90_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = await download(s3, key);
    if (body !== undefined) return body;
    if (Date.now() > deadline)
      throw new Error(`s3://${BUCKET}/${key} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function listKeys(s3: S3Client, prefix: string, bucket = BUCKET): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = out.NextContinuationToken;
  } while (token);
  return keys;
}

/** Pids of the emulator's processes running the function `name`. */
export function functionPids(name: string): number[] {
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`ministack-lambda-${name}-`)) {
        pids.push(Number(pid));
      }
    } catch {
      // gone
    }
  }
  return pids;
}

/** CPU time (clock ticks, user + system) a process has used; undefined when it is gone. */
function cpuTicks(pid: number): number | undefined {
  try {
    const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/**
 * Kills (SIGKILL) the processes of function `name` that are busy on the CPU over the
 * next `sampleMs`, that is, in the middle of a task; returns how many.
 */
export async function killBusy(name: string, sampleMs = 200): Promise<number> {
  const before = new Map(functionPids(name).map((pid) => [pid, cpuTicks(pid)]));
  await new Promise((r) => setTimeout(r, sampleMs));
  let killed = 0;
  for (const [pid, ticks] of before) {
    const now = cpuTicks(pid);
    // Over a third of a core: counting, not idling between invocations.
    if (ticks === undefined || now === undefined || now - ticks < sampleMs / 30) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed++;
    } catch {
      // finished and gone
    }
  }
  return killed;
}

/** What a function wrote to CloudWatch Logs: its JSON lines, and the platform's REPORT lines. */
export interface FunctionLogs {
  lines: Record<string, unknown>[];
  /** Lines that are neither JSON nor the platform's START/END/REPORT. */
  other: string[];
  reports: { requestId: string; billedMs: number; memoryMb: number }[];
}

/** The log events of `fn` from `since` (epoch ms) on. */
export async function functionLogs(
  endpoint: string,
  fn: string,
  since: number,
): Promise<FunctionLogs> {
  const { CloudWatchLogsClient, FilterLogEventsCommand } = await import(
    '@aws-sdk/client-cloudwatch-logs'
  );
  const logs = new CloudWatchLogsClient({ endpoint, region: 'us-east-1', credentials });
  const out: FunctionLogs = { lines: [], other: [], reports: [] };
  let nextToken: string | undefined;
  do {
    const page = await logs.send(
      new FilterLogEventsCommand({
        logGroupName: `/aws/lambda/${fn}`,
        startTime: since,
        nextToken,
      }),
    );
    for (const event of page.events ?? []) {
      const message = (event.message ?? '').trim();
      const report =
        /^REPORT RequestId: (\S+)\s+Duration: [\d.]+ ms\s+Billed Duration: (\d+) ms\s+Memory Size: (\d+) MB/.exec(
          message,
        );
      if (report) {
        out.reports.push({
          requestId: report[1] as string,
          billedMs: Number(report[2]),
          memoryMb: Number(report[3]),
        });
      } else if (message.startsWith('{')) {
        try {
          out.lines.push(JSON.parse(message) as Record<string, unknown>);
        } catch {
          out.other.push(message);
        }
      } else if (!/^(START|END) RequestId: /.test(message) && message !== '') {
        out.other.push(message);
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  logs.destroy();
  return out;
}

/**
 * The cost a job on the emulator published: one invocation per task and one of the
 * orchestrator, GB-seconds that are each function's billed time times its memory, S3
 * requests at least one GET per map task, and dollars that add up.
 */
export function expectCostOfJob(
  cost: Summary['cost'],
  expected: { tasks: number; mapTasks: number; sqs: boolean },
): void {
  expect(cost?.backend).toBe('lambda');
  if (!cost) return;
  expect(cost.functions.counter?.invocations).toBe(expected.tasks);
  expect(cost.functions.orchestrator?.invocations).toBe(1);
  const memory: Record<string, number> = { counter: 1769, orchestrator: 3008 };
  for (const [name, f] of Object.entries(cost.functions)) {
    expect(f.billedMs).toBeGreaterThan(0);
    expect(f.gbSeconds).toBeCloseTo(((f.billedMs / 1000) * (memory[name] ?? 0)) / 1024, 5);
  }
  expect(cost.requests.s3.get).toBeGreaterThanOrEqual(expected.mapTasks);
  expect(cost.requests.s3.put).toBeGreaterThan(0);
  if (expected.sqs) expect(cost.requests.sqs).toBeGreaterThan(0);
  else expect(cost.requests.sqs).toBe(0);
  const { usd } = cost;
  expect(usd.total).toBeGreaterThan(0);
  expect(usd.total).toBeCloseTo(usd.lambdaCompute + usd.lambdaRequests + usd.s3 + usd.sqs, 8);
  expect(cost.prices?.name).toBe('us-east-1 arm64 list prices');
}
