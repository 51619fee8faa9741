/** A counted job's summary: the CLI's --json, output/REL.json, a direct request's answer. */
import { z } from 'zod';
import { CostSchema } from '../cost/schemas.js';
import { InvalidRecordSchema } from './records.js';
import { ModeSchema, WordCountSchema } from './tasks.js';

const nonNegativeInt = z.number().int().nonnegative();
const positiveInt = z.number().int().positive();

export const SummarySchema = z.object({
  /** The job that counted it (on S3: the counts object carries the same id). */
  jobId: z.string().optional(),
  /** What was asked for: a path, an s3:// key, prefix or manifest, or several. */
  source: z.object({ uri: z.string(), bytes: nonNegativeInt, etag: z.string() }),
  /** The objects counted and their bytes as stored. */
  sources: z.object({ objects: nonNegativeInt, bytes: nonNegativeInt }),
  mode: ModeSchema,
  totalWords: nonNegativeInt,
  /** Every distinct word counted, kept or not. */
  distinctWords: nonNegativeInt,
  /**
   * Present when the job asked for a minimum count above 1: the counts file, `top` and
   * the report hold only the words counted at least `minCount` times, `keptWords` of them.
   */
  minCount: positiveInt.optional(),
  keptWords: nonNegativeInt.optional(),
  /** Map tasks. */
  chunks: nonNegativeInt,
  top: z.array(WordCountSchema),
  /** The whole job, from the request to the published output. */
  elapsedMs: z.number().nonnegative(),
  invalidSequences: nonNegativeInt,
  longTokens: nonNegativeInt,
  /**
   * Present when any object was read as records (JSON Lines, Parquet, WARC): documents
   * counted, records skipped (blank lines, WARC records of other types, nulls), records
   * invalid (not a JSON object with a string at the field) and where the first one is.
   */
  records: nonNegativeInt.optional(),
  skippedRecords: nonNegativeInt.optional(),
  invalidRecords: nonNegativeInt.optional(),
  firstInvalidRecord: InvalidRecordSchema.optional(),
  /** How the objects were read, when not the default (auto, field text, not strict). */
  format: z.string().optional(),
  field: z.string().optional(),
  strict: z.boolean().optional(),
  /**
   * words mode: how runs of no-space scripts were segmented (auto, icu or jieba), and
   * the segmenters that setting uses, each named with its version and dictionary.
   */
  segmenter: z.string().optional(),
  segmenters: z.record(z.string(), z.string()).optional(),
  /**
   * With `--ngram N` (N > 1): what was counted are runs of N consecutive tokens of a
   * line, joined by one space; totalWords and distinctWords count those n-grams.
   */
  ngram: positiveInt.optional(),
  /**
   * With `--doc-freq`: the counts file's third column is each word's number of
   * documents (a record, or a text object), and `documents` how many were counted.
   */
  docFreq: z.boolean().optional(),
  documents: nonNegativeInt.optional(),
  stats: z.object({
    chunkSize: positiveInt,
    concurrency: positiveInt,
    tokenCapBytes: positiveInt,
    bytesScanned: nonNegativeInt,
    uncompressedBytes: nonNegativeInt,
    /** Bytes of record text counted (the records' fields, without their wrappers). */
    textBytes: nonNegativeInt.optional(),
    mapTasks: nonNegativeInt,
    /** Hash partitions P of the job's spilled map output. */
    partitions: positiveInt,
    /** Reduce tasks that ran: 0 when the partials were merged inline by the driver. */
    reduceTasks: nonNegativeInt,
    /** Peak resident memory of any one process of the job (the driver, a task). */
    maxRssBytes: nonNegativeInt,
    /**
     * Where the time went: listing and planning; the map tasks, until the last one
     * answered; the reduce tasks (0 when merged inline); writing the output.
     */
    phasesMs: z.object({
      plan: nonNegativeInt,
      map: nonNegativeInt,
      reduce: nonNegativeInt,
      publish: nonNegativeInt,
    }),
  }),
  /** What the job used and what it cost (lib/cost/job-cost.ts). */
  cost: CostSchema.optional(),
});
export type Summary = z.infer<typeof SummarySchema>;
