/**
 * The assumptions a dry plan prints with its estimate: every figure it took and where
 * it comes from, so a reader can tell what to distrust and what to measure instead.
 */
import type { Coordination } from '../../contracts/plan.js';
import type { Prices } from '../../cost/prices.js';
import {
  ACCOUNT_CONCURRENCY,
  type ContentKind,
  HEAPS,
  LAMBDA_SCALING,
  LINE_BYTES,
  MERGE_MB_PER_SECOND,
  QUEUE_HOP_SECONDS,
  QUEUE_TASK_REQUESTS,
  REDUCE_FETCH_CONCURRENCY,
  readRate,
  S3_REQUEST_SECONDS,
  SQS_MAPPING_SCALING,
  TASK_START_SECONDS,
} from '../../cost/rates.js';
import type { Mode } from '../../tokenize.js';
import { COUNTER, ORCHESTRATOR } from '../../topology.js';
import { INLINE_MAX_DISTINCT, INLINE_RESULT_LIMIT_BYTES } from './map-results.js';

const KIND_NAMES: Record<ContentKind, string> = {
  text: 'text and JSON Lines',
  compressed: 'gzip/zstd objects',
  warc: 'WARC/WET gzip objects',
  parquet: 'Parquet',
};

const num = (n: number) => n.toLocaleString('en-US');
/** A unit price times `n`, without the float's noise: 0.0000002 x 10^6 is 0.2. */
const per = (price: number, n: number) => Number((price * n).toPrecision(6));

export function assumptionsOf(options: {
  mode: Mode;
  kinds: ReadonlySet<ContentKind>;
  reduce: boolean;
  coordinations: readonly Coordination[];
  prices: Prices;
}): string[] {
  const lines = [
    'nothing was read: an object over the chunk size splits by its name (.gz/.zst/.zstd and .warc/.wet whole, one task each; .parquet by row groups, taken as ranges of the chunk size; others in byte ranges), where the real planner reads its first bytes and a Parquet footer',
  ];
  for (const kind of ['text', 'compressed', 'warc', 'parquet'] as const) {
    if (!options.kinds.has(kind)) continue;
    const rate = readRate(kind, options.mode);
    const text =
      rate.textPerStored === 1
        ? ''
        : `, ${rate.textPerStored.toFixed(2)} bytes of text per byte stored`;
    lines.push(
      `${KIND_NAMES[kind]}: ${rate.storedMbPerSecond} MB/s stored per counter (${rate.source})${text}`,
    );
  }
  lines.push(
    `a counter (${COUNTER.memoryMb} MB, one vCPU: lib/topology.ts) counts as fast as one worker thread of the 2-core machine the README measured on; Latin-script text (Chinese in words mode runs near 1.7 MB/s: README Performance)`,
    `each task: ${TASK_START_SECONDS} s to start (README Start-up's 0.31 s, rounded up for a cold start), ${S3_REQUEST_SECONDS * 1000} ms per small S3 request ("tens of milliseconds": Optimizing Amazon S3 Performance, Timeouts and Retries); a counter times out after ${COUNTER.timeoutSeconds} s`,
    `words: one per ${HEAPS.bytesPerToken} bytes of text; distinct words by Heaps' law, ${HEAPS.k} x words^${HEAPS.b} (Reuters-RCV1: Introduction to Information Retrieval, 5.1.1; web text has more), ${LINE_BYTES} bytes a word\\tcount line`,
    options.reduce
      ? `a reduce phase, since a task's answer would pass ${INLINE_RESULT_LIMIT_BYTES / 1024 / 1024} MiB or the vocabulary ${num(INLINE_MAX_DISTINCT)} words; reduce tasks fetch a piece of every map output (${REDUCE_FETCH_CONCURRENCY} at once) and merge at ${MERGE_MB_PER_SECOND} MB/s (README Performance, the 20-million-word run)`
      : `no reduce phase: the counts would merge inline (a task's answer under ${INLINE_RESULT_LIMIT_BYTES / 1024 / 1024} MiB, the vocabulary under ${num(INLINE_MAX_DISTINCT)} words), at ${MERGE_MB_PER_SECOND} MB/s`,
  );
  if (options.coordinations.includes('queue')) {
    lines.push(
      `queue: the SQS event source mapping starts ${SQS_MAPPING_SCALING.initial} counters and adds up to ${SQS_MAPPING_SCALING.perMinute} a minute, at most ${num(SQS_MAPPING_SCALING.max)} ("Configuring scaling behavior for SQS event source mappings"); a task makes ${QUEUE_TASK_REQUESTS} S3 requests of bookkeeping, a phase hands over in ${QUEUE_HOP_SECONDS} s (README, On the emulator)`,
    );
  }
  if (options.coordinations.includes('rpc')) {
    lines.push(
      `rpc: the orchestrator (${ORCHESTRATOR.memoryMb} MB, billed while it waits) invokes counters directly; Lambda adds up to ${num(LAMBDA_SCALING.executions)} concurrent executions a function every ${LAMBDA_SCALING.everySeconds} s ("Lambda scaling behavior"), and stops the orchestrator at ${ORCHESTRATOR.timeoutSeconds / 60} minutes`,
    );
  }
  const p = options.prices;
  lines.push(
    `an account runs ${num(ACCOUNT_CONCURRENCY)} executions at once by default ("Lambda quotas"; new accounts may have 10): other functions share them`,
    `prices: ${p.name}: $${p.lambdaGbSecond} per GB-s, $${per(p.lambdaRequest, 1e6)} per million invocations, $${per(p.s3WriteRequest, 1000)} per 1,000 S3 writes and LISTs, $${per(p.s3ReadRequest, 1000)} per 1,000 reads, $${per(p.sqsRequest, 1e6)} per million SQS requests (README, What a job costs)`,
    'not counted: retries, cold-start INIT time, the mapping polling an empty queue, CloudWatch Logs, S3 storage; transfer within a region is free',
  );
  return lines;
}
