/** A job's status record, jobs/ID/status.json: what `wordcount status` reads. */
import { z } from 'zod';
import { SummarySchema } from './summary.js';
import { ModeSchema } from './tasks.js';

const nonNegativeInt = z.number().int().nonnegative();
const positiveInt = z.number().int().positive();

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
  /** The attempt this record is about (its objects are under jobs/ID/attempts/ATTEMPT/). */
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
  /** Once counted: the key of the counts file waiting to be published. */
  staged: z.string().optional(),
});
export type JobStatus = z.infer<typeof JobStatusSchema>;
