/**
 * Structured logs and metrics of the Lambda functions, with Powertools for AWS Lambda:
 * JSON lines that carry the invocation's request id and the job, task and phase they
 * are about, and each job's figures as CloudWatch Embedded Metric Format. Both write
 * to stdout, which Lambda sends to CloudWatch Logs.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { Summary } from '../contracts/summary.js';
import type { Log, LogFields } from '../log.js';

export const SERVICE = 'wordcount';
export const METRICS_NAMESPACE = 'WordcountFanout';

export function createLogger(): Logger {
  return new Logger({ serviceName: SERVICE });
}

export function createMetrics(): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE });
}

/** lib/'s Log, as INFO lines of `logger`; the fields become keys of the line. */
export function logTo(logger: Logger): Log {
  return (message: string, fields?: LogFields) => {
    const keys = Object.fromEntries(
      Object.entries(fields ?? {}).filter(([, value]) => value !== undefined),
    );
    logger.info(message, keys);
  };
}

/**
 * Runs `work` with the invocation's context and `keys` on every line it logs, then
 * clears them: a warm function's next invocation starts clean.
 */
export async function withLogKeys<T>(
  logger: Logger,
  context: Context | undefined,
  keys: LogFields,
  work: () => Promise<T>,
): Promise<T> {
  if (context) logger.addContext(context);
  logger.appendKeys(
    Object.fromEntries(Object.entries(keys).filter(([, value]) => value !== undefined)),
  );
  try {
    return await work();
  } finally {
    logger.resetKeys();
  }
}

/** The fields a task request or queue message names: its job, phase and index. */
export function taskKeys(body: unknown): LogFields {
  if (typeof body !== 'object' || body === null) return {};
  const b = body as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    jobId: text(b.jobId),
    phase: text(b.phase) ?? text(b.type),
    task: typeof b.index === 'number' ? b.index : undefined,
    attempt: text(b.attempt),
  };
}

/** One EMF record of a job's figures, the job id as metadata (not a dimension). */
export function publishJobMetrics(
  metrics: Metrics,
  summary: Summary,
  coordination: 'rpc' | 'queue',
): void {
  metrics.addDimensions({ coordination, mode: summary.mode });
  if (summary.jobId) metrics.addMetadata('jobId', summary.jobId);
  metrics.addMetadata('source', summary.source.uri);
  metrics.addMetric('JobDuration', MetricUnit.Milliseconds, summary.elapsedMs);
  metrics.addMetric('JobBytes', MetricUnit.Bytes, summary.source.bytes);
  metrics.addMetric('JobWords', MetricUnit.Count, summary.totalWords);
  metrics.addMetric('JobDistinctWords', MetricUnit.Count, summary.distinctWords);
  metrics.addMetric('JobMapTasks', MetricUnit.Count, summary.stats.mapTasks);
  metrics.addMetric('JobReduceTasks', MetricUnit.Count, summary.stats.reduceTasks);
  if (summary.cost) {
    metrics.addMetric('JobRetries', MetricUnit.Count, summary.cost.retries);
    metrics.addMetric('JobGbSeconds', MetricUnit.NoUnit, summary.cost.gbSeconds);
    metrics.addMetric('JobCostUsd', MetricUnit.NoUnit, summary.cost.usd.total);
  }
  metrics.publishStoredMetrics();
}
