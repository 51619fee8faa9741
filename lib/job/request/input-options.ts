/**
 * Options an upload carries for its own job: a manifest's fields beside `prefix`/`keys`,
 * or a plain object's user metadata (`x-amz-meta-wordcount-format: jsonl`, set with
 * `aws s3 cp --metadata wordcount-format=jsonl`). A direct request's own options win
 * over these. A bad value refuses the job, naming the option.
 */
import type { z } from 'zod';
import { type JobOptions, JobOptionsSchema } from '../../contracts/requests.js';
import { UsageError } from '../../errors.js';

/** The metadata names, as S3 gives them back (lower case, without x-amz-meta-). */
export const METADATA_OPTIONS = {
  'wordcount-mode': 'mode',
  'wordcount-chunk-size': 'chunkSize',
  'wordcount-top': 'top',
  'wordcount-min-count': 'minCount',
  'wordcount-format': 'format',
  'wordcount-field': 'field',
  'wordcount-strict': 'strict',
  'wordcount-segmenter': 'segmenter',
  'wordcount-ngram': 'ngram',
  'wordcount-doc-freq': 'docFreq',
} as const satisfies Record<string, keyof JobOptions>;

const integer = (text: string) => (/^\d+$/.test(text) ? Number(text) : text);
const boolean = (text: string) => (text === 'true' ? true : text === 'false' ? false : text);

/** The options a plain object's user metadata sets (none when it sets none). */
export function metadataOptions(uri: string, metadata: Record<string, string> = {}): JobOptions {
  const raw: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(METADATA_OPTIONS)) {
    const value = metadata[name];
    if (value === undefined) continue;
    raw[option] =
      option === 'top' || option === 'minCount' || option === 'chunkSize' || option === 'ngram'
        ? integer(value)
        : option === 'strict' || option === 'docFreq'
          ? boolean(value)
          : value;
  }
  const parsed = JobOptionsSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0] as z.core.$ZodIssue;
  const option = String(issue.path[0] ?? '');
  const name = Object.entries(METADATA_OPTIONS).find(([, o]) => o === option)?.[0] ?? option;
  throw new UsageError(
    `${uri}: its metadata x-amz-meta-${name}: '${metadata[name]}' ${issue.message.toLowerCase()}`,
  );
}
