/** Schemas of the usage and cost that tasks, phase records and summaries carry. */
import { z } from 'zod';

const count = z.number().int().nonnegative();
const amount = z.number().nonnegative();

/** What a task's function used (lib/cost/usage.ts). */
export const TaskUsageSchema = z.object({
  billedMs: count,
  memoryMb: count,
  requests: z.record(z.string(), count),
  retries: count.optional(),
});

const FunctionUsageSchema = z.object({ invocations: count, billedMs: count, gbSeconds: amount });

/** A job's usage so far, carried from phase to phase by the queue coordination. */
export const UsageTallySchema = z.object({
  functions: z.record(z.string(), FunctionUsageSchema),
  requests: z.record(z.string(), count),
  retries: count,
});

/** The summary's `cost` (lib/cost/job-cost.ts). */
export const CostSchema = z.object({
  backend: z.enum(['lambda', 'embedded']),
  functions: z.record(z.string(), FunctionUsageSchema),
  gbSeconds: amount,
  cpuSeconds: amount.optional(),
  requests: z.object({
    s3: z.object({
      get: count,
      head: count,
      list: count,
      put: count,
      copy: count,
      multipart: count,
      parts: count,
      delete: count,
      other: count,
    }),
    sqs: count,
  }),
  retries: count,
  prices: z
    .object({
      name: z.string(),
      lambdaGbSecond: amount,
      lambdaRequest: amount,
      s3WriteRequest: amount,
      s3ReadRequest: amount,
      sqsRequest: amount,
    })
    .optional(),
  usd: z.object({
    lambdaCompute: amount,
    lambdaRequests: amount,
    s3: amount,
    sqs: amount,
    total: amount,
  }),
});
