/**
 * `wordcount count s3://…`: the deployed orchestrator counts the objects where they
 * live, and the CLI prints its summary (and copies the counts file with --counts).
 * The AWS SDK loads only here, for s3:// sources: local counts start faster without it.
 */
import { basename, dirname, resolve } from 'node:path';
import { FileObjectStore } from '../adapters/file-store.js';
import { parsePayload, type Summary, SummarySchema } from '../contracts.js';
import { UsageError } from '../errors.js';
import { type InputName, outputKeys } from '../keys.js';
import type { Mode } from '../tokenize.js';

export interface RemoteOptions {
  mode: Mode;
  chunkSize?: number;
  top: number;
  counts?: string;
  function?: string;
}

interface S3Source {
  bucket: string;
  /** A key, or a prefix when the URI ends with a slash (or names only the bucket). */
  path: string;
  prefix: boolean;
}

export function parseS3Uri(uri: string): S3Source {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(uri);
  if (!match) throw new UsageError(`${uri}: expected s3://bucket/key or s3://bucket/prefix/`);
  const path = match[2] ?? '';
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

export async function countRemote(
  uris: readonly string[],
  options: RemoteOptions,
): Promise<Summary> {
  const { bucket, input } = remoteInput(uris);
  const functionName = options.function ?? process.env.WORDCOUNT_ORCHESTRATOR_FUNCTION;
  if (!functionName) {
    throw new UsageError(
      `${uris[0]}: name the orchestrator function with --function or WORDCOUNT_ORCHESTRATOR_FUNCTION`,
    );
  }
  // The SDK's notice that releases after early 2027 need Node 22 is not for our users:
  // the lockfile pins the SDK, and the notice would break the one-line stderr contract.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { createLambdaClient, createS3Client } = await import('../adapters/aws-clients.js');
  const { LambdaRunner } = await import('../adapters/lambda-runner.js');
  const { S3ObjectStore } = await import('../adapters/s3-store.js');
  // Throttling is retried; a job that failed is not invoked again (its outcome stands).
  const runner = new LambdaRunner(createLambdaClient({ maxSockets: 2 }), {
    concurrency: 1,
    maxAttempts: 3,
    functionRetries: 0,
    timeoutMs: 16 * 60 * 1000,
  });
  const request = {
    bucket,
    ...(input.kind === 'key'
      ? { key: input.key }
      : input.kind === 'prefix'
        ? { prefix: input.prefix }
        : { keys: input.keys }),
    mode: options.mode,
    chunkSize: options.chunkSize,
    top: options.top,
  };
  const reply = await runner.invoke(functionName, request);
  const summary = parsePayload(SummarySchema, reply, `summary from ${functionName}`);
  if (options.counts !== undefined) {
    const store = new S3ObjectStore(
      createS3Client({ maxSockets: 2, forcePathStyle: true }),
      bucket,
    );
    const target = resolve(options.counts);
    await new FileObjectStore(dirname(target)).put(
      basename(target),
      store.readRange(outputKeys(input).counts, { start: 0 }),
    );
  }
  return summary;
}
