/** Schemas of everything that crosses a process boundary; both sides parse with these. */
import { z } from 'zod';
import { InvalidPayloadError } from './errors.js';
import { MODES } from './tokenize.js';

const nonNegativeInt = z.number().int().nonnegative();

export const ModeSchema = z.enum(MODES);

export const ByteRangeSchema = z
  .object({ index: nonNegativeInt, start: nonNegativeInt, end: nonNegativeInt })
  .refine((r) => r.end > r.start, { message: 'range end must be after its start' });

/** Counter input: one range of one object. */
export const CountRequestSchema = z.object({
  /** Absent on the embedded backend, where the worker's store is the file's directory. */
  bucket: z.string().min(1).optional(),
  key: z.string().min(1),
  etag: z.string().optional(),
  mode: ModeSchema,
  range: ByteRangeSchema,
  /**
   * When the inline result would exceed `inlineLimitBytes`, write it under `prefix` in
   * `partitions` files by word hash (the same partitions for every range of a job).
   */
  spill: z
    .object({
      prefix: z.string().min(1),
      inlineLimitBytes: z.number().int().positive(),
      partitions: z.number().int().min(1).max(1024),
    })
    .optional(),
});
export type CountRequest = z.infer<typeof CountRequestSchema>;

/**
 * Counter output: the range's counts inline as `word\tcount\n` lines, or, when that
 * would not fit the payload budget, the keys of hash-partitioned files holding them.
 */
export const CountResultSchema = z
  .object({
    index: nonNegativeInt,
    entries: z.string().optional(),
    spilled: z.object({ keys: z.array(z.string()).min(1), bytes: nonNegativeInt }).optional(),
    tokens: nonNegativeInt,
    invalidSequences: nonNegativeInt,
    longTokens: nonNegativeInt,
    bytesScanned: nonNegativeInt,
    elapsedMs: z.number().nonnegative(),
  })
  .refine((r) => (r.entries === undefined) !== (r.spilled === undefined), {
    message: 'a count result carries either entries or spilled, not both',
  });
export type CountResult = z.infer<typeof CountResultSchema>;

export const SummarySchema = z.object({
  source: z.object({ uri: z.string(), bytes: nonNegativeInt, etag: z.string() }),
  mode: ModeSchema,
  totalWords: nonNegativeInt,
  distinctWords: nonNegativeInt,
  chunks: nonNegativeInt,
  top: z.array(z.object({ word: z.string(), count: z.number().int().positive() })),
  elapsedMs: z.number().nonnegative(),
  invalidSequences: nonNegativeInt,
  longTokens: nonNegativeInt,
  stats: z.object({
    chunkSize: z.number().int().positive(),
    concurrency: z.number().int().positive(),
    tokenCapBytes: z.number().int().positive(),
    bytesScanned: nonNegativeInt,
    /** Peak resident memory of the process that ran the job (workers included when embedded). */
    maxRssBytes: nonNegativeInt,
  }),
});
export type Summary = z.infer<typeof SummarySchema>;

/** Parses `value` with `schema`, naming `what` and the first bad field on failure. */
export function parsePayload<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  throw new InvalidPayloadError(`invalid ${what}${path}: ${issue?.message ?? 'malformed'}`);
}

/** A direct orchestrator invocation (the CLI's `count s3://…`, scripts, tests). */
export const JobRequestSchema = z.object({
  bucket: z.string().min(1),
  key: z.string().min(1),
  mode: ModeSchema.optional(),
  /** Bytes, or a size such as "16MiB". */
  chunkSize: z.union([z.number().int().positive(), z.string().min(1)]).optional(),
  top: z.number().int().nonnegative().optional(),
});
export type JobRequest = z.infer<typeof JobRequestSchema>;

/** The part of an S3 notification the orchestrator reads. */
export const S3EventSchema = z.object({
  Records: z
    .array(
      z.object({
        eventName: z.string(),
        s3: z.object({
          bucket: z.object({ name: z.string().min(1) }),
          object: z.object({ key: z.string().min(1) }),
        }),
      }),
    )
    .min(1),
});
export type S3Event = z.infer<typeof S3EventSchema>;

/** What jobs/JOBID/status.json holds. */
export const JobStatusSchema = z.object({
  jobId: z.string(),
  state: z.enum(['running', 'succeeded', 'failed']),
  source: z.object({
    bucket: z.string(),
    key: z.string(),
    etag: z.string(),
    bytes: nonNegativeInt,
  }),
  mode: ModeSchema,
  chunkSize: z.number().int().positive(),
  updatedAt: z.string(),
  reason: z.string().optional(),
  ranges: z.array(
    z.object({
      index: nonNegativeInt,
      start: nonNegativeInt,
      end: nonNegativeInt,
      counted: z.boolean(),
    }),
  ),
  output: z.object({ summary: z.string(), counts: z.string() }).optional(),
});
export type JobStatus = z.infer<typeof JobStatusSchema>;
