/**
 * Every S3 key the system reads or writes, built in one place. Users upload under
 * input/; the system writes only under output/ and jobs/, so its own writes never
 * trigger a job.
 */
import { createHash } from 'node:crypto';

export const INPUT_PREFIX = 'input/';
export const OUTPUT_PREFIX = 'output/';
export const JOBS_PREFIX = 'jobs/';

/** The part of an input key after input/ (the whole key when it is elsewhere). */
export function relativeName(key: string): string {
  return key.startsWith(INPUT_PREFIX) ? key.slice(INPUT_PREFIX.length) : key;
}

export function summaryKey(inputKey: string): string {
  return `${OUTPUT_PREFIX}${relativeName(inputKey)}.json`;
}

export function countsKey(inputKey: string): string {
  return `${OUTPUT_PREFIX}${relativeName(inputKey)}.counts.tsv`;
}

/** Same object version and options → same id, so a repeated trigger finds its job. */
export function jobIdFor(parts: {
  bucket: string;
  key: string;
  etag: string;
  mode: string;
  chunkSize: number;
}): string {
  const text = JSON.stringify([parts.bucket, parts.key, parts.etag, parts.mode, parts.chunkSize]);
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

export function jobPrefix(jobId: string): string {
  return `${JOBS_PREFIX}${jobId}/`;
}

export function statusKey(jobId: string): string {
  return `${jobPrefix(jobId)}status.json`;
}

export function claimKey(jobId: string): string {
  return `${jobPrefix(jobId)}claim.json`;
}

export function partialsPrefix(jobId: string): string {
  return `${jobPrefix(jobId)}partials/`;
}

export function partialKey(prefix: string, index: number, partition: number): string {
  return `${prefix}${index}/${partition}.tsv`;
}

/** S3 event keys arrive form-encoded: `+` is a space, the rest percent-escapes. */
export function decodeS3Key(raw: string): string {
  return decodeURIComponent(raw.replace(/\+/g, ' '));
}

/** The objects an S3 notification reports as created, keys decoded; other events are skipped. */
export function createdObjects(event: {
  Records: readonly {
    eventName: string;
    s3: { bucket: { name: string }; object: { key: string } };
  }[];
}): { bucket: string; key: string }[] {
  return event.Records.filter((r) => r.eventName.startsWith('ObjectCreated:')).map((r) => ({
    bucket: r.s3.bucket.name,
    key: decodeS3Key(r.s3.object.key),
  }));
}
