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
  key: z.string().min(1),
  etag: z.string().optional(),
  mode: ModeSchema,
  range: ByteRangeSchema,
});
export type CountRequest = z.infer<typeof CountRequestSchema>;

/** Counter output: the range's counts inline, as `word\tcount\n` lines. */
export const CountResultSchema = z.object({
  index: nonNegativeInt,
  entries: z.string(),
  tokens: nonNegativeInt,
  invalidSequences: nonNegativeInt,
  longTokens: nonNegativeInt,
  bytesScanned: nonNegativeInt,
  elapsedMs: z.number().nonnegative(),
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
