/**
 * Schemas of what the queue coordination keeps and sends: task messages, the
 * orchestrator's reply, a queued job's record and its phase records. Both sides parse
 * with these.
 */
import { z } from 'zod';
import { UsageTallySchema } from '../cost/schemas.js';
import { RecordOptionsSchema, RecordTotalsSchema } from './records.js';
import { InputNameSchema } from './requests.js';
import { OutputSchema } from './status.js';
import { ModeSchema, TaskRequestSchema, WordCountSchema } from './tasks.js';

const nonNegativeInt = z.number().int().nonnegative();
const positiveInt = z.number().int().positive();

/** A task on the queue (SQS body): which job, attempt and task, and its request or where it is kept. */
export const TaskMessageSchema = z
  .object({
    jobId: z.string().min(1),
    /** The attempt of the job that sent it: a message from an earlier attempt is dropped. */
    attempt: z.string().min(1),
    phase: z.enum(['map', 'reduce', 'finalize']),
    index: nonNegativeInt,
    /** The request itself, while it fits a message. */
    request: TaskRequestSchema.optional(),
    /** Else the key of the request in the bucket. */
    requestKey: z.string().min(1).optional(),
  })
  .strict()
  .refine((m) => (m.request === undefined) !== (m.requestKey === undefined), {
    message: 'a task message carries either its request or requestKey',
  });
export type TaskMessage = z.infer<typeof TaskMessageSchema>;
export type TaskPhase = TaskMessage['phase'];

/** Anything on the task queue: tasks only (starts are watched by the watchdog). */
export const QueueMessageSchema = TaskMessageSchema;
export type QueueMessage = TaskMessage;

/** The orchestrator's answer to a direct invocation that queued its job (queue coordination). */
export const QueuedReplySchema = z.object({
  jobId: z.string(),
  outcome: z.enum(['queued', 'already-queued']),
  /** Where the job's status is: s3://bucket/jobs/ID/status.json. */
  status: z.string(),
  /** Where its output will be. */
  output: OutputSchema,
});
export type QueuedReply = z.infer<typeof QueuedReplySchema>;

/** What a queued job's tasks need to take it from phase to phase: jobs/ID/attempts/A/job.json. */
export const QueuedJobSchema = z.object({
  jobId: z.string(),
  /** This run of the job: its ledger is jobs/ID/ledger/ATTEMPT/. */
  attempt: z.string(),
  bucket: z.string().optional(),
  input: InputNameSchema,
  source: z.object({ uri: z.string(), etag: z.string() }),
  sources: z.object({ objects: nonNegativeInt, bytes: nonNegativeInt }),
  mode: ModeSchema,
  /** How the objects are read (format, field, strict), when not the defaults. */
  records: RecordOptionsSchema.optional(),
  chunkSize: positiveInt,
  partitions: positiveInt,
  mapTasks: nonNegativeInt,
  concurrency: positiveInt,
  top: nonNegativeInt,
  /** Words counted fewer times are left out of the counts and the top (absent: none). */
  minCount: positiveInt.optional(),
  inlineLimitBytes: nonNegativeInt,
  maxInlineDistinct: positiveInt,
  output: OutputSchema,
  /** Wall clock of the request and of the plan: the phases' times start there. */
  startedAt: z.string(),
  plannedAt: z.string(),
});
export type QueuedJob = z.infer<typeof QueuedJobSchema>;

/** What the map tasks counted together, carried from phase to phase. */
export const MappedSchema = z.object({
  tokens: nonNegativeInt,
  invalidSequences: nonNegativeInt,
  longTokens: nonNegativeInt,
  bytesScanned: nonNegativeInt,
  uncompressedBytes: nonNegativeInt,
  documents: nonNegativeInt.optional(),
  records: RecordTotalsSchema.optional(),
});
export type Mapped = z.infer<typeof MappedSchema>;

/** What the task that started a phase decided: jobs/ID/ledger/ATTEMPT/phases/PHASE.json. */
export const PhaseRecordSchema = z.object({
  /** The message whose task completed the previous phase and claimed this one. */
  by: z.string(),
  at: z.string(),
  /** Tasks of the phase, once planned (written before any is sent). */
  tasks: nonNegativeInt.optional(),
  /** Every task of the phase was sent. */
  sent: z.boolean().optional(),
  /** The map tasks' totals (from the reduce phase on). */
  mapped: MappedSchema.optional(),
  /** The reduce tasks' totals (finalize phase); `kept` of the distinct words, when pruned. */
  reduced: z
    .object({
      distinct: nonNegativeInt,
      kept: nonNegativeInt.optional(),
      top: z.array(WordCountSchema),
      tasks: nonNegativeInt,
    })
    .optional(),
  /** Peak memory of any task so far. */
  maxRssBytes: nonNegativeInt.optional(),
  /** What the job's functions used so far (the orchestrator's start, the tasks of earlier phases). */
  usage: UsageTallySchema.optional(),
});
export type PhaseRecord = z.infer<typeof PhaseRecordSchema>;
