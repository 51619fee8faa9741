/** The events the functions are sent by AWS: S3 notifications, the schedule, SQS batches, failed invocations. */
import { z } from 'zod';

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

/** Whether an event is a batch of SQS messages (an event source mapping's), by its records' source. */
export function isSqsEvent<T>(event: unknown): event is T {
  if (typeof event !== 'object' || event === null || !('Records' in event)) return false;
  const { Records } = event as { Records: unknown };
  return (
    Array.isArray(Records) &&
    Records.every((r: { eventSource?: string } | null) => r?.eventSource === 'aws:sqs')
  );
}

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
