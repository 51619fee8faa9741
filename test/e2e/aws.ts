/** Clients and helpers for the emulator, over plain AWS APIs. */
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';

export const BUCKET = 'wordcount-local';
export const ORCHESTRATOR = 'wordcount-local-orchestrator';
export const COUNTER = 'wordcount-local-counter';
export const FAILING_ORCHESTRATOR = 'wordcount-failing-orchestrator';
export const FAILING_COUNTER = 'wordcount-failing-counter';

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

export async function upload(s3: S3Client, key: string, body: Uint8Array | string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

export async function download(s3: S3Client, key: string): Promise<string | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
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

export async function listKeys(s3: S3Client, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = out.NextContinuationToken;
  } while (token);
  return keys;
}
