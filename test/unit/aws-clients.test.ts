import { describe, expect, it } from 'vitest';
import { createS3Client, pathStyleFor } from '../../lib/adapters/aws-clients.js';

describe('S3 addressing', () => {
  it('is path-style only when an endpoint is configured, virtual-hosted on AWS', async () => {
    expect(pathStyleFor({})).toBe(false);
    expect(pathStyleFor({ AWS_REGION: 'us-east-1' })).toBe(false);
    expect(pathStyleFor({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })).toBe(true);
    expect(pathStyleFor({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4566' })).toBe(true);
    expect(pathStyleFor({ AWS_ENDPOINT_URL: '' })).toBe(false);
  });

  it('builds AWS URLs with the bucket in the host name unless told otherwise', async () => {
    const onAws = createS3Client({ maxSockets: 1, region: 'us-east-1', forcePathStyle: false });
    expect(onAws.config.forcePathStyle).toBe(false);
    const local = createS3Client({ maxSockets: 1, region: 'us-east-1', forcePathStyle: true });
    expect(local.config.forcePathStyle).toBe(true);
  });
});
