/**
 * Schemas of everything that crosses a process boundary; both sides parse with these.
 * The queue coordination's own messages and records are in queue-contracts.ts.
 */
import { z } from 'zod';
import { CostSchema, TaskUsageSchema } from './cost/schemas.js';
import { InvalidPayloadError } from './errors.js';
import { MODES } from './tokenize.js';

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
  })
  .refine((s) => s.end > s.start, { message: 'slice end must be after its start' })
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
    /** Bytes the kernel counted after decompression (gzip objects), or as stored. */
    uncompressedBytes: nonNegativeInt,
    elapsedMs: z.number().nonnegative(),
    /** Peak resident memory of the process that ran the task. */
    maxRssBytes: nonNegativeInt,
    /** What the task's function used (its time, memory and requests): the job's cost. */
    usage: TaskUsageSchema.optional(),
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
    /** Where to write the sorted shard; absent when only totals and top words are wanted. */
    shardKey: z.string().min(1).optional(),
    top: nonNegativeInt,
  })
  .refine(
    (r) => r.inputs.every((i) => i.offsets.length === r.partitions[1] - r.partitions[0] + 1),
    {
      message: 'each input needs one offset per partition, and one more',
    },
  );
export type ReduceRequest = z.infer<typeof ReduceRequestSchema>;

export const WordCountSchema = z.object({ word: z.string(), count: positiveInt });

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

export const SummarySchema = z.object({
  /** The job that counted it (on S3: the counts object carries the same id). */
  jobId: z.string().optional(),
  /** What was asked for: a path, an s3:// key, prefix or manifest, or several. */
  source: z.object({ uri: z.string(), bytes: nonNegativeInt, etag: z.string() }),
  /** The objects counted and their bytes as stored. */
  sources: z.object({ objects: nonNegativeInt, bytes: nonNegativeInt }),
  mode: ModeSchema,
  totalWords: nonNegativeInt,
  distinctWords: nonNegativeInt,
  /** Map tasks. */
  chunks: nonNegativeInt,
  top: z.array(WordCountSchema),
  /** The whole job, from the request to the published output. */
  elapsedMs: z.number().nonnegative(),
  invalidSequences: nonNegativeInt,
  longTokens: nonNegativeInt,
  stats: z.object({
    chunkSize: positiveInt,
    concurrency: positiveInt,
    tokenCapBytes: positiveInt,
    bytesScanned: nonNegativeInt,
    uncompressedBytes: nonNegativeInt,
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

/** Parses `value` with `schema`, naming `what` and the first bad field on failure. */
export function parsePayload<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  throw new InvalidPayloadError(`invalid ${what}${path}: ${issue?.message ?? 'malformed'}`);
}

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
    /** Count again even when this input version was already counted. */
    force: z.boolean().optional(),
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
  force: z.union([z.boolean(), z.string().min(1)]).optional(),
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
  since: z.string(),
  /** Times the watchdog started it again. */
  restarts: nonNegativeInt,
});
export type ActiveJob = z.infer<typeof ActiveJobSchema>;

/** What `input/NAME.manifest.json` holds: one job over a prefix or a list of keys. */
export const ManifestSchema = z
  .object({
    prefix: z.string().optional(),
    keys: z.array(z.string().min(1)).min(1).max(1_000_000).optional(),
  })
  .strict()
  .refine((m) => (m.prefix === undefined) !== (m.keys === undefined), {
    message: 'a manifest holds either "prefix" or "keys"',
  });
export type Manifest = z.infer<typeof ManifestSchema>;

/**
 * What Lambda's on-failure destination sends when an asynchronous invocation (an S3
 * notification) failed on every attempt: the event, and the last error.
 */
export const FailedInvocationSchema = z.object({
  requestContext: z.object({ condition: z.string().optional() }).passthrough(),
  requestPayload: z.unknown(),
  responsePayload: z
    .object({ errorMessage: z.string().optional(), errorType: z.string().optional() })
    .passthrough()
    .nullish(),
});
export type FailedInvocation = z.infer<typeof FailedInvocationSchema>;

/** What the schedule sends the orchestrator every few minutes: a round of the watchdog. */
export const SweepEventSchema = z.object({ watchdog: z.literal('sweep') }).strict();

/** The part of an S3 notification the orchestrator reads. */
export const S3EventSchema = z.object({
  Records: z
    .array(
      z.object({
        eventName: z.string(),
        s3: z.object({
          bucket: z.object({ name: z.string().min(1) }),
          object: z.object({
            key: z.string().min(1),
            eTag: z.string().optional(),
            sequencer: z.string().optional(),
          }),
        }),
      }),
    )
    .min(1),
});
export type S3Event = z.infer<typeof S3EventSchema>;

/** Where a job's output goes: the summary (written last), the counts, the HTML report. */
export const OutputSchema = z.object({
  summary: z.string(),
  counts: z.string(),
  /** Absent in the records of jobs started before reports were written. */
  report: z.string().optional(),
});

/** What jobs/JOBID/status.json holds. */
export const JobStatusSchema = z.object({
  jobId: z.string(),
  /**
   * running → counted (the counts file waits in jobs/ID/) → succeeded (published), or
   * superseded (a newer version of the input exists: nothing published), or failed; an
   * upload that asked for what cannot be counted is refused (nothing else written).
   */
  state: z.enum(['running', 'counted', 'succeeded', 'superseded', 'failed', 'refused']),
  /** Who drives the job: one orchestrator invocation (rpc) or its tasks (queue). */
  coordination: z.enum(['rpc', 'queue']).optional(),
  /** Queue: the attempt this record is about (its ledger is jobs/ID/attempts/ATTEMPT/). */
  attempt: z.string().optional(),
  input: z.object({
    bucket: z.string(),
    /** The key, prefix or manifest the job was asked for, as an s3:// URI. */
    uri: z.string(),
    /** A digest of every object's key and ETag: the version of the input. */
    etag: z.string(),
    objects: nonNegativeInt,
    bytes: nonNegativeInt,
  }),
  mode: ModeSchema,
  /** Absent in the record of a job that ended before it was planned (refused, say). */
  chunkSize: positiveInt.optional(),
  updatedAt: z.string(),
  reason: z.string().optional(),
  tasks: z.object({
    map: nonNegativeInt,
    mapDone: nonNegativeInt,
    reduce: nonNegativeInt,
    reduceDone: nonNegativeInt,
  }),
  output: OutputSchema,
  /** Once counted: the summary to publish, so a failed publish is repaired without recounting. */
  summary: SummarySchema.optional(),
});
export type JobStatus = z.infer<typeof JobStatusSchema>;
