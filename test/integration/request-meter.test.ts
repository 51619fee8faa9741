/**
 * The request meter on a real SDK client against a real HTTP server on loopback that
 * throttles every other request: what the job's cost counts is every attempt.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../lib/adapters/aws-clients.js';
import { RequestMeter } from '../../lib/cost/request-meter.js';

describe('the request meter on an SDK client', () => {
  let server: Server;
  let endpoint: string;
  let answered = 0;

  beforeAll(async () => {
    // A real HTTP server on loopback: throttles every other request, so retries happen.
    server = createServer((_, res) => {
      answered++;
      res.statusCode = answered % 2 === 1 ? 503 : 200;
      res.setHeader('content-length', '0');
      res.setHeader('etag', '"e"');
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('counts every attempt, retries included, as AWS bills them', async () => {
    const meter = new RequestMeter();
    const saved = { ...process.env };
    // The SDK reads these when it sends, not when the client is made.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    try {
      const client = createS3Client({
        maxSockets: 2,
        forcePathStyle: true,
        region: 'us-east-1',
        meter,
      });
      const before = answered;
      await client.send(new HeadObjectCommand({ Bucket: 'b', Key: 'k' }));
      await client.send(new HeadObjectCommand({ Bucket: 'b', Key: 'k' }));
      expect(answered - before).toBe(4);
      expect(meter.snapshot()).toEqual({ 's3:HeadObject': 4 });
      client.destroy();
    } finally {
      process.env = saved;
    }
  });
});
