/**
 * `wordcount count s3://…`: the deployed orchestrator counts the objects where they
 * live. With RPC coordination it answers the summary; with queue coordination it
 * answers where the job is, and the CLI follows the job's status to its end (or, with
 * --no-wait, prints the job id at once). The AWS SDK loads only here, for s3:// sources:
 * local counts start faster without it.
 */

import { basename, dirname, resolve } from 'node:path';
import { FileObjectStore } from '../adapters/file-store.js';
import { parsePayload } from '../contracts/parse.js';
import { type QueuedReply, QueuedReplySchema } from '../contracts/queue.js';
import { jobRequestOf } from '../contracts/requests.js';
import { type Summary, SummarySchema } from '../contracts/summary.js';
import { JobFailedError, ObjectNotFoundError, UsageError } from '../errors.js';
import { viewJob } from '../job/ledger/job-view.js';
import type { JobProgress } from '../job/phases/job-progress.js';
import { withTop } from '../job/phases/summary.js';
import { type InputName, outputKeys } from '../keys.js';
import type { ObjectStore } from '../ports.js';
import type { FormatOption } from '../records/formats.js';
import type { SegmenterName } from '../segmenter.js';
import { readJson } from '../stored-json.js';
import type { Mode } from '../tokenize.js';

export interface RemoteOptions {
  mode: Mode;
  format?: FormatOption;
  field?: string;
  strict?: boolean;
  segmenter?: SegmenterName;
  ngram?: number;
  docFreq?: boolean;
  chunkSize?: number;
  top: number;
  minCount?: number;
  counts?: string;
  function?: string;
  /** Count again even if this version was counted before. */
  force?: boolean;
}

interface S3Source {
  bucket: string;
  /** A key, or a prefix when the URI ends with a slash. */
  path: string;
  prefix: boolean;
}

export function parseS3Uri(uri: string): S3Source {
  // A bare s3://bucket is refused, not taken for the whole bucket: that costs a count of
  // everything in it, so it is asked for as s3://bucket/.
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!match) {
    throw new UsageError(
      `${uri}: expected s3://bucket/key, s3://bucket/prefix/ or s3://bucket/ (the whole bucket)`,
    );
  }
  const path = match[2] as string;
  return { bucket: match[1] as string, path, prefix: path === '' || path.endsWith('/') };
}

/** The one request (and output name) several s3:// sources make. */
export function remoteInput(uris: readonly string[]): { bucket: string; input: InputName } {
  const sources = uris.map(parseS3Uri);
  const [first] = sources as [S3Source];
  const other = sources.find((s) => s.bucket !== first.bucket);
  if (other) {
    throw new UsageError(
      `s3://${other.bucket}/: a job counts one bucket, and s3://${first.bucket}/ came first`,
    );
  }
  if (sources.length === 1) {
    return {
      bucket: first.bucket,
      input: first.prefix
        ? { kind: 'prefix', prefix: first.path }
        : { kind: 'key', key: first.path },
    };
  }
  const prefix = sources.find((s) => s.prefix);
  if (prefix) {
    throw new UsageError(
      `s3://${prefix.bucket}/${prefix.path}: a prefix must be the only source; for several, upload a manifest listing their keys`,
    );
  }
  return { bucket: first.bucket, input: { kind: 'keys', keys: sources.map((s) => s.path) } };
}

/** AWS for the CLI: the region from AWS_REGION, else AWS_DEFAULT_REGION, as the aws CLI reads them. */
export async function awsAccess() {
  // The SDK's notice that releases after early 2027 need Node 22 is not for our users:
  // the lockfile pins the SDK, and the notice would break the one-line stderr contract.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined;
  const { createLambdaClient, createS3Client, pathStyleFor } = await import(
    '../adapters/aws-clients.js'
  );
  const { LambdaRunner } = await import('../adapters/lambda-runner.js');
  const { S3ObjectStore } = await import('../adapters/s3-store.js');
  return {
    store: (bucket: string): ObjectStore =>
      new S3ObjectStore(
        createS3Client({ maxSockets: 4, forcePathStyle: pathStyleFor(process.env), region }),
        bucket,
      ),
    // Throttling is retried; a job that failed is not invoked again (its outcome stands).
    runner: () =>
      new LambdaRunner(createLambdaClient({ maxSockets: 2, region }), {
        concurrency: 1,
        maxAttempts: 3,
        functionRetries: 0,
        timeoutMs: 16 * 60 * 1000,
      }),
  };
}

/** The orchestrator's answer: a summary, or (queue coordination) where its job is. */
export type RemoteReply = { summary: Summary } | { queued: QueuedReply };

/** Asks the orchestrator to count `uris`: it answers a summary, or that it queued the job. */
export async function startRemote(
  uris: readonly string[],
  options: RemoteOptions,
): Promise<{ bucket: string; input: InputName; reply: RemoteReply }> {
  const { bucket, input } = remoteInput(uris);
  const functionName = options.function ?? process.env.WORDCOUNT_ORCHESTRATOR_FUNCTION;
  if (!functionName) {
    throw new UsageError(
      `${uris[0]}: name the orchestrator function with --function or WORDCOUNT_ORCHESTRATOR_FUNCTION`,
    );
  }
  const aws = await awsAccess();
  const request = jobRequestOf(bucket, {
    input,
    mode: options.mode,
    chunkSize: options.chunkSize,
    top: options.top,
    ...(options.minCount !== undefined && { minCount: options.minCount }),
    ...(options.format !== undefined && options.format !== 'auto' && { format: options.format }),
    ...(options.field !== undefined && { field: options.field }),
    ...(options.strict && { strict: true }),
    ...(options.segmenter !== undefined && { segmenter: options.segmenter }),
    ...(options.ngram !== undefined && options.ngram > 1 && { ngram: options.ngram }),
    ...(options.docFreq && { docFreq: true }),
    ...(options.force && { force: true }),
  });
  const answer = await aws.runner().invoke(functionName, request);
  const queued = QueuedReplySchema.safeParse(answer);
  const reply: RemoteReply = queued.success
    ? { queued: queued.data }
    : { summary: parsePayload(SummarySchema, answer, `summary from ${functionName}`) };
  return { bucket, input, reply };
}

/**
 * Waits for a queued job to end, showing its committed tasks; returns the published
 * summary with `top` words, or fails with the job's reason.
 */
export async function waitForJob(
  store: ObjectStore,
  input: InputName,
  jobId: string,
  options: { top: number; pollMs?: number; onProgress?: (progress: JobProgress) => void },
): Promise<Summary> {
  const output = outputKeys(input);
  for (;;) {
    const report = await viewJob(store, jobId);
    if (!report) throw new JobFailedError(`job ${jobId}: its status record is gone`);
    const { status, progress } = report;
    if (status.state === 'succeeded') {
      const summary = SummarySchema.safeParse(await readJson(store, output.summary)).data;
      if (summary?.jobId !== jobId) {
        throw new JobFailedError(
          `job ${jobId} published, but ${store.uri(output.summary)} now belongs to job ${summary?.jobId ?? 'none'}: a newer version was counted since`,
        );
      }
      return withTop(store, summary, output.counts, options.top);
    }
    if (status.state === 'failed' || status.state === 'superseded' || status.state === 'refused') {
      throw new JobFailedError(
        `job ${jobId} ${status.state}: ${status.reason ?? 'no reason recorded'}`,
      );
    }
    if (progress && options.onProgress) {
      const { bytes } = status.input;
      const share = progress.tasks === 0 ? 1 : progress.committed / progress.tasks;
      options.onProgress({
        phase: progress.phase,
        tasksDone: progress.committed,
        tasks: progress.tasks,
        bytes,
        bytesDone: progress.phase === 'map' ? Math.round(bytes * share) : bytes,
      });
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
  }
}

/** Copies a published output (the counts file, the report) to a local path. */
export async function copyOutput(
  store: ObjectStore,
  input: InputName,
  which: 'counts' | 'report',
  path: string,
): Promise<void> {
  const target = resolve(path);
  await new FileObjectStore(dirname(target)).put(
    basename(target),
    store.readRange(outputKeys(input)[which], { start: 0 }),
  );
}

/**
 * Copies the job's report to a local path; a job published before reports were written
 * has none, and then it is made here from the published counts.
 */
export async function copyReport(
  store: ObjectStore,
  input: InputName,
  summary: Summary,
  path: string,
): Promise<void> {
  try {
    await copyOutput(store, input, 'report', path);
  } catch (error) {
    if (!(error instanceof ObjectNotFoundError)) throw error;
    const { reportHtmlFromCounts } = await import('../report/from-counts.js');
    const counts = outputKeys(input).counts;
    const html = await reportHtmlFromCounts(
      store.readRange(counts, { start: 0 }),
      summary.totalWords,
      summary,
      store.uri(counts),
    );
    const target = resolve(path);
    await new FileObjectStore(dirname(target)).put(basename(target), html);
  }
}
