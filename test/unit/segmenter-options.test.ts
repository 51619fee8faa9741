/** The segmenter option on every path into a job: metadata, the job id, the map request. */
import { describe, expect, it } from 'vitest';
import { MapRequestSchema } from '../../lib/contracts/tasks.js';
import { mapRequestFor } from '../../lib/job/phases/map-results.js';
import { metadataOptions } from '../../lib/job/request/input-options.js';
import { jobIdFor } from '../../lib/keys.js';

describe('the segmenter option', () => {
  it('is read from an upload’s wordcount-segmenter metadata, and a bad one refused', () => {
    expect(metadataOptions('s3://b/input/x', { 'wordcount-segmenter': 'jieba' })).toEqual({
      segmenter: 'jieba',
    });
    expect(() => metadataOptions('s3://b/input/x', { 'wordcount-segmenter': 'mecab' })).toThrow(
      /x-amz-meta-wordcount-segmenter: 'mecab'/,
    );
  });

  it('goes into the job id unless it is the default', () => {
    const base = {
      bucket: 'b',
      input: { kind: 'key' as const, key: 'input/x' },
      objects: [{ key: 'input/x', etag: '"e1"' }],
      mode: 'words',
      chunkSize: 1 << 20,
    };
    const icu = jobIdFor({ ...base, records: { segmenter: 'icu' } });
    const jieba = jobIdFor({ ...base, records: { segmenter: 'jieba' } });
    expect(new Set([jobIdFor(base), icu, jieba]).size).toBe(3);
    expect(jobIdFor({ ...base, records: { segmenter: 'auto' } })).toBe(jobIdFor(base));
  });

  it('travels to the map task in its request', () => {
    const request = mapRequestFor({
      task: {
        index: 0,
        bytes: 10,
        slices: [{ key: 'input/x', etag: '"e1"', start: 0, end: 10, whole: false }],
      },
      mode: 'words',
      records: { segmenter: 'jieba' },
      workPrefix: 'jobs/j/',
      partitions: 4,
      inlineLimitBytes: 1000,
      expectedDistinct: 0,
      chunkSize: 10,
    });
    expect(MapRequestSchema.parse(request).records?.segmenter).toBe('jieba');
  });
});
