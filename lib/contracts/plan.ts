/**
 * What a job would do, planned from sizes and names alone: `wordcount plan --json`, and
 * the orchestrator's answer to a request with `"dryRun": true`. Fields are added, never
 * changed in meaning.
 */
import { z } from 'zod';
import { CostSchema } from '../cost/schemas.js';
import { ModeSchema } from './tasks.js';

const count = z.number().int().nonnegative();
const amount = z.number().nonnegative();

/** Objects of one kind of split, their stored bytes and the map tasks they make. */
const SplitShareSchema = z.object({ objects: count, bytes: count, tasks: count });

export const COORDINATIONS = ['queue', 'rpc'] as const;
export type Coordination = (typeof COORDINATIONS)[number];

/** The job's time and bill under one coordination. */
export const CoordinationEstimateSchema = z.object({
  /** From the request to the published output. */
  seconds: amount,
  phasesSeconds: z.object({
    start: amount,
    map: amount,
    reduce: amount,
    finalize: amount,
    publish: amount,
  }),
  /** The bill, in the summary's `cost` shape, at the plan's price table. */
  cost: CostSchema,
  /** What would go wrong under this coordination (a timeout it would outlast). */
  warnings: z.array(z.string()),
});
export type CoordinationEstimate = z.infer<typeof CoordinationEstimateSchema>;

export const PlanSummarySchema = z.object({
  dryRun: z.literal(true),
  source: z.object({ uri: z.string(), objects: count, bytes: count }),
  mode: ModeSchema,
  chunkSize: count,
  /** Why this chunk size: asked for, the default, or the default grown with the input. */
  chunkSizeReason: z.string(),
  /** The job's hash partitions P. */
  partitions: count,
  tasks: z.object({ map: count, reduce: count, finalize: count, total: count }),
  /** How the objects split: by name, since a plan reads nothing. */
  splits: z.object({
    ranges: SplitShareSchema,
    rowGroups: SplitShareSchema,
    whole: SplitShareSchema,
    packed: SplitShareSchema,
  }),
  /** Counters at once the estimate assumes, and why. */
  width: z.object({ counters: z.number().int().positive(), reason: z.string() }),
  estimate: z.object({
    /** Text the counters would count (decompressed, without record framing). */
    textBytes: count,
    words: count,
    distinctWords: count,
    /** Bytes the map tasks would spill for the reduce phase (0: merged inline). */
    mapOutputBytes: count,
    /** The longest map task, counting alone. */
    longestTaskSeconds: amount,
    coordinations: z.object({
      queue: CoordinationEstimateSchema.optional(),
      rpc: CoordinationEstimateSchema.optional(),
    }),
  }),
  /** Every figure the estimate took, with where it comes from. */
  assumptions: z.array(z.string()),
});
export type PlanSummary = z.infer<typeof PlanSummarySchema>;
