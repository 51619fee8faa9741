/**
 * The task function's contract: what a map, reduce or finalize task is asked (the same
 * request from any driver, through Lambda or a worker thread) and what it answers.
 */
import { z } from 'zod';
import { TaskUsageSchema } from '../cost/schemas.js';
import { MODES } from '../tokenize.js';
import {
  FormatSchema,
  RangeLinesSchema,
  RecordOptionsSchema,
  RecordTotalsSchema,
} from './records.js';

const nonNegativeInt = z.number().int().nonnegative();
const positiveInt = z.number().int().positive();

export const ModeSchema = z.enum(MODES);

export const SliceSchema = z
  .object({
    key: z.string().min(1),
    etag: z.string(),
    start: nonNegativeInt,
    end: nonNegativeInt,
    whole: z.boolean(),
    /** The format, where the planner had to know it (ranges, row groups). */
    format: FormatSchema.optional(),
    /** Parquet: the row groups [from, to) (start and end span their column chunks). */
    rowGroups: z.tuple([nonNegativeInt, nonNegativeInt]).optional(),
    /** The object's size (Parquet row groups: the footer is at its end). */
    size: nonNegativeInt.optional(),
  })
  .refine((s) => s.end > s.start, { message: 'slice end must be after its start' })
  .refine((s) => !s.rowGroups || (s.size !== undefined && s.rowGroups[1] > s.rowGroups[0]), {
    message: 'a row-group slice names its object size and at least one row group',
  })
  .refine((s) => !s.whole || s.start === 0, { message: 'a whole-object slice starts at 0' });

export const SpilledPartSchema = z.object({
  key: z.string().min(1),
  /** Partition p is bytes [offsets[p], offsets[p + 1]) of the object. */
  offsets: z.array(nonNegativeInt).min(2),
});
export type SpilledPart = z.infer<typeof SpilledPartSchema>;

/** A map task: count some slices of some objects. */
export const MapRequestSchema = z.object({
  type: z.literal('map'),
  /** Absent on the embedded backend, where the worker's stores are fixed. */
  bucket: z.string().min(1).optional(),
  /** The job it is part of, for the task's log lines. */
  jobId: z.string().optional(),
  index: nonNegativeInt,
  mode: ModeSchema,
  /** How the objects are read: format, field, strict (all default). */
  records: RecordOptionsSchema.optional(),
  slices: z.array(SliceSchema).min(1),
  /** Distinct keys a task of this job held so far: sizes the table so it rarely grows. */
  expectedDistinct: nonNegativeInt.optional(),
  /**
   * When the counts would be bigger than `inlineLimitBytes` as JSON, write them under
   * `prefix` hash-partitioned into `partitions` (the same P for every task of a job).
   */
  spill: z.object({
    prefix: z.string().min(1),
    inlineLimitBytes: nonNegativeInt,
    partitions: z.number().int().min(1).max(65536),
  }),
});
export type MapRequest = z.infer<typeof MapRequestSchema>;

/** Counts of a map task: inline `word\tcount\n` lines, or where they were spilled. */
export const MapResultSchema = z
  .object({
    type: z.literal('map'),
    index: nonNegativeInt,
    entries: z.string().optional(),
    /** Spilled parts (more than one when a task's vocabulary outgrew its table). */
    spilled: z.array(SpilledPartSchema).min(1).optional(),
    tokens: nonNegativeInt,
    /** Distinct keys the task's table held (the last one, if it spilled more than once). */
    distinct: nonNegativeInt,
    invalidSequences: nonNegativeInt,
    longTokens: nonNegativeInt,
    bytesScanned: nonNegativeInt,
    /** Documents counted under --doc-freq (records, or text objects). */
    documents: nonNegativeInt.optional(),
    /** Bytes the kernel counted after decompression (gzip objects), or as stored. */
    uncompressedBytes: nonNegativeInt,
    elapsedMs: z.number().nonnegative(),
    /** Peak resident memory of the process that ran the task. */
    maxRssBytes: nonNegativeInt,
    /** What the task's function used (its time, memory and requests): the job's cost. */
    usage: TaskUsageSchema.optional(),
    /** What its records came to, when it read any format with records. */
    records: RecordTotalsSchema.optional(),
    /** The lines of the JSONL range it read, when it read one. */
    rangeLines: RangeLinesSchema.optional(),
  })
  .refine((r) => (r.entries === undefined) !== (r.spilled === undefined), {
    message: 'a map result carries either entries or spilled',
  });
export type MapResult = z.infer<typeof MapResultSchema>;

/** One map output's share of a reduce task: its partitions [from, to) as byte offsets. */
export const ReduceInputSchema = z
  .object({
    key: z.string().min(1),
    /** Partition from + j is bytes [offsets[j], offsets[j + 1]) of the object. */
    offsets: z.array(nonNegativeInt).min(2),
  })
  .refine((s) => s.offsets.every((o, j) => j === 0 || o >= (s.offsets[j - 1] as number)), {
    message: 'offsets must not decrease',
  });
export type ReduceInput = z.infer<typeof ReduceInputSchema>;

/**
 * A chunk of the job's index of spilled map outputs (tasks/parts-index.ts): `parts`
 * outputs' keys in a JSON line of `headerBytes`, then their offsets partition-major.
 */
export const IndexChunkSchema = z.object({
  key: z.string().min(1),
  parts: positiveInt,
  headerBytes: positiveInt,
});
export type IndexChunk = z.infer<typeof IndexChunkSchema>;

/** A reduce task: merge some partitions of every spilled map output. */
export const ReduceRequestSchema = z
  .object({
    type: z.literal('reduce'),
    bucket: z.string().min(1).optional(),
    jobId: z.string().optional(),
    index: nonNegativeInt,
    /** The task's partitions [from, to) of the job's P. */
    partitions: z.tuple([nonNegativeInt, nonNegativeInt]),
    inputs: z.array(ReduceInputSchema),
    /** Map outputs named by the job's index instead (read by the task: their number is unbounded). */
    partsIndex: z.array(IndexChunkSchema).optional(),
    /** Where to write the sorted shard; absent when only totals and top words are wanted. */
    shardKey: z.string().min(1).optional(),
    top: nonNegativeInt,
    /** Words come with their document counts (--doc-freq): joined into a third column. */
    docFreq: z.boolean().optional(),
    /** Only words counted at least this often go into the shard and the top (absent: all). */
    minCount: positiveInt.optional(),
  })
  .refine(
    (r) => r.inputs.every((i) => i.offsets.length === r.partitions[1] - r.partitions[0] + 1),
    {
      message: 'each input needs one offset per partition, and one more',
    },
  );
export type ReduceRequest = z.infer<typeof ReduceRequestSchema>;

export const WordCountSchema = z.object({
  word: z.string(),
  count: positiveInt,
  /** With --doc-freq: the documents the word occurs in. */
  docs: positiveInt.optional(),
});

/** A line of a sorted shard and where it starts: what the parallel finalize splits at. */
export const ShardSampleSchema = z.object({
  offset: nonNegativeInt,
  count: positiveInt,
  word: z.string(),
});
export type ShardSample = z.infer<typeof ShardSampleSchema>;

export const ShardSchema = z.object({
  key: z.string().min(1),
  bytes: nonNegativeInt,
  /** Lines every few hundred KiB, in order, the first at offset 0. */
  samples: z.array(ShardSampleSchema),
});
export type Shard = z.infer<typeof ShardSchema>;

export const ReduceResultSchema = z.object({
  type: z.literal('reduce'),
  index: nonNegativeInt,
  /** Distinct words in the task's partitions. */
  distinct: nonNegativeInt,
  /** Of them, those counted at least the request's minCount times (its shard's lines). */
  kept: nonNegativeInt.optional(),
  /** Sum of their counts. */
  tokens: nonNegativeInt,
  /** The task's most frequent words, in output order. */
  top: z.array(WordCountSchema),
  shard: ShardSchema.optional(),
  elapsedMs: z.number().nonnegative(),
  maxRssBytes: nonNegativeInt,
  usage: TaskUsageSchema.optional(),
});
export type ReduceResult = z.infer<typeof ReduceResultSchema>;

const PlaceSchema = z.object({ count: positiveInt, word: z.string() });

/**
 * A finalize task: merge, from sorted shards, the lines of output order in [from, to)
 * (open-ended where absent) into one part of the counts file.
 */
export const FinalizeRequestSchema = z.object({
  type: z.literal('finalize'),
  bucket: z.string().min(1).optional(),
  jobId: z.string().optional(),
  index: nonNegativeInt,
  /** Byte windows of the shards that hold every line of the range. */
  shards: z.array(
    z
      .object({ key: z.string().min(1), start: nonNegativeInt, end: nonNegativeInt })
      .refine((w) => w.end >= w.start, { message: 'window end must not be before its start' }),
  ),
  from: PlaceSchema.optional(),
  to: PlaceSchema.optional(),
  partKey: z.string().min(1),
});
export type FinalizeRequest = z.infer<typeof FinalizeRequestSchema>;

export const FinalizeResultSchema = z.object({
  type: z.literal('finalize'),
  index: nonNegativeInt,
  part: z.object({ key: z.string().min(1), bytes: nonNegativeInt }),
  elapsedMs: z.number().nonnegative(),
  maxRssBytes: nonNegativeInt,
  usage: TaskUsageSchema.optional(),
});
export type FinalizeResult = z.infer<typeof FinalizeResultSchema>;

/** What the task function (the counter Lambda, a pool worker) accepts. */
export const TaskRequestSchema = z.discriminatedUnion('type', [
  MapRequestSchema,
  ReduceRequestSchema,
  FinalizeRequestSchema,
]);
export type TaskRequest = z.infer<typeof TaskRequestSchema>;
