import { describe, expect, it } from 'vitest';
import { counterConfig, orchestratorConfig, sstLinksActive } from '../../lib/config.js';
import { UsageError } from '../../lib/errors.js';
import {
  claimKey,
  countsKey,
  createdObjects,
  decodeS3Key,
  INPUT_PREFIX,
  jobIdFor,
  partialKey,
  partialsPrefix,
  statusKey,
  summaryKey,
} from '../../lib/keys.js';

describe('keys', () => {
  it('decodes S3 event keys: + is a space, then percent-escapes', () => {
    expect(decodeS3Key('input/some+key+with+spaces.txt')).toBe('input/some key with spaces.txt');
    expect(decodeS3Key('input/plus%2Band%26%3D%C3%BC%E2%82%AC.txt')).toBe('input/plus+and&=ü€.txt');
  });

  it('reads every created object of a notification, decoded, and skips other events', () => {
    const record = (eventName: string, key: string) => ({
      eventName,
      s3: { bucket: { name: 'b' }, object: { key } },
    });
    expect(
      createdObjects({
        Records: [
          record('ObjectCreated:Put', 'input/a+b.txt'),
          record('ObjectRemoved:Delete', 'input/c.txt'),
          record('ObjectCreated:CompleteMultipartUpload', 'input/%C3%A9.txt'),
        ],
      }),
    ).toEqual([
      { bucket: 'b', key: 'input/a b.txt' },
      { bucket: 'b', key: 'input/é.txt' },
    ]);
  });

  it('maps input/REL to output/REL.json and output/REL.counts.tsv', () => {
    expect(summaryKey('input/books/a b.txt')).toBe('output/books/a b.txt.json');
    expect(countsKey('input/books/a b.txt')).toBe('output/books/a b.txt.counts.tsv');
    expect(summaryKey('elsewhere/x.txt')).toBe('output/elsewhere/x.txt.json');
  });

  it('derives the same job id from the same object version and options only', () => {
    const base = { bucket: 'b', key: 'input/x', etag: '"e1"', mode: 'words', chunkSize: 16 };
    expect(jobIdFor(base)).toBe(jobIdFor({ ...base }));
    for (const change of [
      { etag: '"e2"' },
      { mode: 'whitespace' },
      { chunkSize: 17 },
      { key: 'input/y' },
      { bucket: 'c' },
    ]) {
      expect(jobIdFor({ ...base, ...change })).not.toBe(jobIdFor(base));
    }
  });

  it('keeps everything the system writes out of the trigger prefix', () => {
    const id = jobIdFor({ bucket: 'b', key: 'input/x', etag: 'e', mode: 'words', chunkSize: 1 });
    for (const key of [
      summaryKey('input/x'),
      countsKey('input/x'),
      statusKey(id),
      claimKey(id),
      partialKey(partialsPrefix(id), 3, 1),
    ]) {
      expect(key.startsWith(INPUT_PREFIX)).toBe(false);
    }
  });
});

describe('function configuration', () => {
  it('reads plain environment variables when SST links are not active', () => {
    const env = {
      WORDCOUNT_BUCKET: 'bkt',
      WORDCOUNT_COUNTER_FUNCTION: 'ctr',
      WORDCOUNT_CONCURRENCY: '8',
      WORDCOUNT_CHUNK_SIZE: '1MiB',
    };
    expect(sstLinksActive(env)).toBe(false);
    expect(orchestratorConfig(env)).toEqual({
      bucket: 'bkt',
      counterFunction: 'ctr',
      concurrency: 8,
      chunkSize: 1024 * 1024,
    });
    expect(Object.isFrozen(orchestratorConfig(env))).toBe(true);
    expect(counterConfig(env)).toEqual({ bucket: 'bkt' });
  });

  it('prefers linked names', () => {
    expect(sstLinksActive({ SST_RESOURCE_App: '{}' })).toBe(true);
    expect(
      orchestratorConfig({}, { bucket: 'linked-b', counterFunction: 'linked-c' }),
    ).toMatchObject({
      bucket: 'linked-b',
      counterFunction: 'linked-c',
      concurrency: 64,
      chunkSize: 16 * 1024 * 1024,
    });
  });

  it('names the missing or malformed variable', () => {
    expect(() => counterConfig({})).toThrow(UsageError);
    expect(() => counterConfig({})).toThrow(/WORDCOUNT_BUCKET is not set/);
    expect(() => orchestratorConfig({ WORDCOUNT_BUCKET: 'b' })).toThrow(
      /WORDCOUNT_COUNTER_FUNCTION/,
    );
    expect(() =>
      orchestratorConfig({
        WORDCOUNT_BUCKET: 'b',
        WORDCOUNT_COUNTER_FUNCTION: 'c',
        WORDCOUNT_CONCURRENCY: 'lots',
      }),
    ).toThrow(/WORDCOUNT_CONCURRENCY must be a positive integer, got 'lots'/);
  });
});
