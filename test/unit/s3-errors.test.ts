/** S3ObjectStore's error mapping, against a scripted client: the one place SDK errors are read. */
import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../lib/adapters/s3-store.js';
import {
  ConditionalConflictError,
  ObjectNotFoundError,
  PreconditionFailedError,
} from '../../lib/errors.js';

function failing(error: unknown): S3Client {
  return { send: async () => Promise.reject(error) } as unknown as S3Client;
}

const sdkError = (name: string, status: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe('S3ObjectStore error mapping', () => {
  it('maps a racing conditional write (409 ConditionalRequestConflict) to a conflict to retry', async () => {
    const store = new S3ObjectStore(failing(sdkError('ConditionalRequestConflict', 409)), 'b');
    await expect(store.put('k', 'x', { ifNoneMatch: true })).rejects.toThrow(
      ConditionalConflictError,
    );
  });

  it('maps 412 to a failed precondition, 404 to a missing key, NoSuchBucket to a missing bucket', async () => {
    await expect(
      new S3ObjectStore(failing(sdkError('PreconditionFailed', 412)), 'b').put('k', 'x', {
        ifMatch: '"e"',
      }),
    ).rejects.toThrow(PreconditionFailedError);
    await expect(
      new S3ObjectStore(failing(sdkError('NotFound', 404)), 'b').head('k'),
    ).rejects.toThrow('s3://b/k: no such key');
    const noBucket = new S3ObjectStore(failing(sdkError('NoSuchBucket', 404)), 'gone');
    await expect(noBucket.head('k')).rejects.toThrow(ObjectNotFoundError);
    await expect(noBucket.head('k')).rejects.toThrow('s3://gone/k: no such bucket');
  });
});
