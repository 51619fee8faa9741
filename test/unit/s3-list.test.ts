/** S3ObjectStore's listing requests, against a scripted client: what ListObjectsV2 is asked. */
import type { ListObjectsV2CommandInput, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../lib/adapters/s3-store.js';

describe('S3ObjectStore.list', () => {
  it('starts after startAfter on the first page, then follows the continuation token', async () => {
    const asked: ListObjectsV2CommandInput[] = [];
    const pages = [
      { Contents: [{ Key: 'in/b', Size: 1, ETag: '"e1"' }], NextContinuationToken: 't1' },
      { Contents: [{ Key: 'in/c', Size: 2, ETag: '"e2"' }] },
    ];
    const client = {
      send: async (command: { input: ListObjectsV2CommandInput }) => {
        asked.push(command.input);
        return pages[asked.length - 1];
      },
    } as unknown as S3Client;
    const listed = [];
    for await (const info of new S3ObjectStore(client, 'b').list('in/', { startAfter: 'in/a' })) {
      listed.push(info);
    }
    expect(listed).toEqual([
      { key: 'in/b', uri: 's3://b/in/b', size: 1, etag: '"e1"' },
      { key: 'in/c', uri: 's3://b/in/c', size: 2, etag: '"e2"' },
    ]);
    expect(asked).toEqual([
      { Bucket: 'b', Prefix: 'in/', ContinuationToken: undefined, StartAfter: 'in/a' },
      { Bucket: 'b', Prefix: 'in/', ContinuationToken: 't1', StartAfter: undefined },
    ]);
  });
});
