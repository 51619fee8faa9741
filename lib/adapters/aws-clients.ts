/**
 * AWS clients built the way this system needs them. Called once per process from
 * functions/ and the CLI with explicit settings; nothing here reads the environment
 * (the SDK itself still honours AWS_ENDPOINT_URL, AWS_REGION and credentials).
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { meterClient, type RequestMeter } from '../cost/request-meter.js';

export interface ClientSettings {
  /** Sockets kept for concurrent calls; the SDK's default of 50 caps a wider fan-out. */
  maxSockets: number;
  /** The region, when the caller resolves it (the SDK reads AWS_REGION and profiles). */
  region?: string;
  /** Milliseconds a socket may stay silent (no response byte) before the request fails. */
  requestTimeoutMs?: number;
  /** Milliseconds to establish a connection. */
  connectionTimeoutMs?: number;
  /** Counts every request the client makes (the job's cost). */
  meter?: RequestMeter;
}

function metered<T>(client: T, service: string, settings: ClientSettings): T {
  if (settings.meter) meterClient(client, service, settings.meter);
  return client;
}

function handler(settings: ClientSettings): NodeHttpHandler {
  const agentOptions = { keepAlive: true, maxSockets: settings.maxSockets };
  return new NodeHttpHandler({
    httpAgent: new HttpAgent(agentOptions),
    httpsAgent: new HttpsAgent(agentOptions),
    requestTimeout: settings.requestTimeoutMs,
    connectionTimeout: settings.connectionTimeoutMs,
  });
}

/**
 * S3 calls that stall fail instead of waiting out a function's whole timeout: a
 * connection within 5 s, and no 30 s without a byte. The SDK retries them (3 attempts);
 * a body that stalls mid-stream fails its task, which is retried as a whole.
 */
export const S3_TIMEOUTS = { requestTimeoutMs: 30_000, connectionTimeoutMs: 5_000 } as const;

/** Lambda client for LambdaRunner: retries are the runner's, so the SDK makes one attempt. */
export function createLambdaClient(settings: ClientSettings): LambdaClient {
  const client = new LambdaClient({
    // A connection that never opens fails in seconds; a call may still run for minutes.
    requestHandler: handler({ connectionTimeoutMs: S3_TIMEOUTS.connectionTimeoutMs, ...settings }),
    maxAttempts: 1,
    ...(settings.region && { region: settings.region }),
  });
  return metered(client, 'lambda', settings);
}

/**
 * Whether S3 is addressed path-style (http://host/bucket/key): only when an endpoint is
 * configured (an emulator on a bare host:port); on AWS, virtual-hosted style
 * (bucket.s3.region.amazonaws.com), which AWS recommends and new features need.
 */
export function pathStyleFor(env: Record<string, string | undefined>): boolean {
  return Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
}

/** S3 client; `forcePathStyle` from pathStyleFor. */
export function createS3Client(settings: ClientSettings & { forcePathStyle?: boolean }): S3Client {
  const client = new S3Client({
    requestHandler: handler({ ...S3_TIMEOUTS, ...settings }),
    forcePathStyle: settings.forcePathStyle,
    ...(settings.region && { region: settings.region }),
  });
  return metered(client, 's3', settings);
}

/** SQS client: sends ride out throttling with the SDK's adaptive retries. */
export function createSqsClient(settings: ClientSettings): SQSClient {
  const client = new SQSClient({
    requestHandler: handler({ requestTimeoutMs: 30_000, connectionTimeoutMs: 5_000, ...settings }),
    maxAttempts: 8,
    retryMode: 'adaptive',
    ...(settings.region && { region: settings.region }),
  });
  return metered(client, 'sqs', settings);
}
