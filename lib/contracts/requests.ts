/**
 * What a job is asked for: a direct request to the orchestrator, what the start takes, an
 * uploaded manifest, and the record of a job that started (what the watchdog restarts).
 */
import { z } from 'zod';
import { SEGMENTERS } from '../segmenter.js';
import { MAX_NGRAM } from '../tokenize.js';
import { FieldSchema, FormatOptionSchema } from './records.js';
import { ModeSchema } from './tasks.js';

const nonNegativeInt = z.number().int().nonnegative();
const positiveInt = z.number().int().positive();

/** `--ngram`: 1 (single tokens) to MAX_NGRAM. */
const NgramSchema = z.number().int().min(1).max(MAX_NGRAM);

/** How the objects are read: any request, start or manifest may say. */
const RECORD_OPTIONS = {
  /** auto (by content and name), text, jsonl, parquet or warc. */
  format: FormatOptionSchema.optional(),
  /** The JSON field or Parquet column counted (a dotted path); default text. */
  field: FieldSchema.optional(),
  /** Fail the job on the first invalid record instead of counting it. */
  strict: z.boolean().optional(),
  /** words mode: auto (Chinese to jieba, other no-space scripts to ICU), icu or jieba. */
  segmenter: z.enum(SEGMENTERS).optional(),
  /** Counts runs of N consecutive tokens of a line (1, the default: single tokens). */
  ngram: NgramSchema.optional(),
  /** Counts each word's documents too (a record, or a text object): a third column. */
  docFreq: z.boolean().optional(),
};

/**
 * Words counted fewer times are left out of the counts file, the top and the report
 * (after the reduce: exact); the summary's distinctWords still counts every word.
 */
const MinCountSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** Most top words a response carries; the counts file has the rest. */
export const MAX_RESPONSE_TOP = 1000;

/** A direct orchestrator invocation (the CLI's `count s3://…`, scripts, tests). */
export const JobRequestSchema = z
  .object({
    bucket: z.string().min(1),
    key: z
      .string()
      .min(1)
      .refine((k) => !k.endsWith('/'), {
        message: 'a key ending in / is a folder: to count what is under it, send "prefix"',
      })
      .optional(),
    prefix: z.string().optional(),
    keys: z.array(z.string().min(1)).min(1).max(1_000_000).optional(),
    mode: ModeSchema.optional(),
    /** Bytes, or a size such as "16MiB". */
    chunkSize: z.union([positiveInt, z.string().min(1)]).optional(),
    top: nonNegativeInt.max(MAX_RESPONSE_TOP).optional(),
    minCount: MinCountSchema.optional(),
    ...RECORD_OPTIONS,
    /** Count again even when this input version was already counted. */
    force: z.boolean().optional(),
    /** Answer what the job would do and cost (contracts/plan.ts), writing nothing. */
    dryRun: z.boolean().optional(),
  })
  .strict()
  .refine((r) => [r.key, r.prefix, r.keys].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of key, prefix or keys',
  });
export type JobRequest = z.infer<typeof JobRequestSchema>;

/** A direct request as the start takes it: its bucket, and what to count how. */
export function startRequestOf(request: JobRequest): { bucket: string } & StartRequest {
  const { bucket, key, prefix, keys, ...options } = request;
  const input: StartRequest['input'] =
    key !== undefined
      ? { kind: 'key', key }
      : prefix !== undefined
        ? { kind: 'prefix', prefix }
        : { kind: 'keys', keys: keys ?? [] };
  return { bucket, input, ...options };
}

/** The direct request that asks for `start` in `bucket` (the CLI's, for instance). */
export function jobRequestOf(bucket: string, start: StartRequest): JobRequest {
  const { input, force, ...options } = start;
  return {
    bucket,
    ...(input.kind === 'key'
      ? { key: input.key }
      : input.kind === 'prefix'
        ? { prefix: input.prefix }
        : { keys: [...input.keys] }),
    ...options,
    ...(force && { force: true }),
  };
}

/** What a job counts: a key (an object or a manifest), a prefix, or a list of keys. */
export const InputNameSchema = z.union([
  z.object({ kind: z.literal('key'), key: z.string() }),
  z.object({ kind: z.literal('prefix'), prefix: z.string() }),
  z.object({ kind: z.literal('keys'), keys: z.array(z.string()).readonly() }),
]);

/**
 * A job as the orchestrator takes it, from a notification or a direct invocation: what
 * to count and how. `force` is true to count again, or (once taken) the token that
 * makes the forced job one of its own, kept so a restart makes the same job.
 */
export const StartRequestSchema = z.object({
  input: InputNameSchema,
  mode: ModeSchema.optional(),
  chunkSize: z.union([positiveInt, z.string().min(1)]).optional(),
  top: nonNegativeInt.optional(),
  minCount: MinCountSchema.optional(),
  ...RECORD_OPTIONS,
  force: z.union([z.boolean(), z.string().min(1)]).optional(),
  /** Plan only: answer what the job would do and cost, and write nothing. */
  dryRun: z.boolean().optional(),
});
export type StartRequest = z.infer<typeof StartRequestSchema>;

/**
 * jobs/active/JOBID.json: a job that started and has not ended, written before its claim
 * and removed when its outcome is recorded. The watchdog sweeps these: a start or a run
 * that stopped is started again, a queued job that stopped making progress is sent
 * again, and one that keeps stopping is recorded failed.
 */
export const ActiveJobSchema = z.object({
  jobId: z.string().min(1),
  coordination: z.enum(['rpc', 'queue']),
  request: StartRequestSchema,
  /** When its latest start began: a terminal status older than this is an earlier run's. */
  since: z.string(),
  /** Times the watchdog started it again. */
  restarts: nonNegativeInt,
  /** Why the watchdog's last restart failed, if it did: the reason it gives up with. */
  lastError: z.string().optional(),
});
export type ActiveJob = z.infer<typeof ActiveJobSchema>;

/** What an upload may ask of its job: a manifest's fields, or an object's metadata. */
export const JobOptionsSchema = z
  .object({
    mode: ModeSchema.optional(),
    chunkSize: z.union([positiveInt, z.string().min(1)]).optional(),
    top: nonNegativeInt.max(MAX_RESPONSE_TOP).optional(),
    minCount: MinCountSchema.optional(),
    ...RECORD_OPTIONS,
  })
  .strict();
export type JobOptions = z.infer<typeof JobOptionsSchema>;

/**
 * What `input/NAME.manifest.json` holds: one job over a prefix or a list of keys, and
 * any option a direct request takes.
 */
export const ManifestSchema = z
  .object({
    prefix: z.string().optional(),
    keys: z.array(z.string().min(1)).min(1).max(1_000_000).optional(),
    ...JobOptionsSchema.shape,
  })
  .strict()
  .refine((m) => (m.prefix === undefined) !== (m.keys === undefined), {
    message: 'a manifest holds either "prefix" or "keys"',
  });
export type Manifest = z.infer<typeof ManifestSchema>;
