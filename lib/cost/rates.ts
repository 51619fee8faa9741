/**
 * The figures a plan's estimate is made of, each with where it comes from: the speeds
 * measured in the README's Performance section (`npm run bench`, a 2-core development
 * machine, one worker thread standing for one counter's vCPU), AWS's documented scaling
 * rates and latencies, and a vocabulary law from the information-retrieval literature.
 * Pure data: the estimate prints each one it used.
 */
import type { Mode } from '../tokenize.js';

/** What counters read, as far as a plan can tell without reading: by the key's name. */
export type ContentKind = 'text' | 'compressed' | 'warc' | 'parquet';

export interface ReadRate {
  /** Stored MB (10^6 bytes) a counter gets through per second. */
  storedMbPerSecond: number;
  /** Bytes of counted text per stored byte. */
  textPerStored: number;
  source: string;
}

/** Plain text per counter, by token mode: the prose table's `1 worker` rows (268.7 MB of KJV). */
export const TEXT_MB_PER_SECOND: Record<Mode, number> = { words: 159.3, whitespace: 133.3 };
const TEXT_SOURCE = 'README Performance, prose table, 1 worker';

/**
 * Stored formats per counter: the corpus table's `1 worker` rows (whitespace mode, 200 MB
 * of text); text per stored byte is its `MB/s text` over `MB/s stored`.
 */
export const FORMAT_RATES: Record<Exclude<ContentKind, 'text'>, ReadRate> = {
  compressed: {
    storedMbPerSecond: 37.6,
    textPerStored: 121.3 / 37.6,
    source: 'README Performance, corpus table, JSONL.gz 1 worker, whitespace mode',
  },
  warc: {
    storedMbPerSecond: 59.4,
    textPerStored: 134.0 / 59.4,
    source: 'README Performance, corpus table, WET 1 worker, whitespace mode',
  },
  parquet: {
    storedMbPerSecond: 65.5,
    textPerStored: 129.7 / 65.5,
    source: 'README Performance, corpus table, Parquet 1 worker, whitespace mode',
  },
};

/** A counter reads its range as one GET: "Performance guidelines for Amazon S3" (85-90 MB/s a request). */
export const S3_STREAM_MB_PER_SECOND = 85;
/**
 * A small S3 request: "tens of milliseconds" median ("Timeouts and Retries for
 * Latency-Sensitive Applications", Optimizing Amazon S3 Performance whitepaper).
 */
export const S3_REQUEST_SECONDS = 0.03;
/**
 * A task's start (invocation, a cold start's module loading, the first byte): the CLI
 * counts a one-line file in 0.31 s (README Performance, Start-up), rounded up; not
 * measured on Lambda.
 */
export const TASK_START_SECONDS = 0.5;
/** S3 requests a queued task makes around its work, one after another (README, cost table). */
export const QUEUE_TASK_REQUESTS = 7;
/** A phase's hand-over under queue coordination: a poll, a commit, a listing (README, emulator: 1.9 s for two). */
export const QUEUE_HOP_SECONDS = 1;
/**
 * Merging map outputs (reduce, finalize, the driver's own merge) per counter: the
 * 20-million-word run of README Performance (249.6 MB, map, reduce and counts file in
 * 14.83 s on 2 workers), the whole job's rate taken for the merge alone.
 */
export const MERGE_MB_PER_SECOND = 8;
/** A map output's GETs a reduce task makes at once (reduce-task.ts). */
export const REDUCE_FETCH_CONCURRENCY = 32;

/**
 * Heaps' law, distinct words = K * tokens^B, with the fit for Reuters-RCV1 (K = 44,
 * B = 0.49) and its 6 bytes per token: Manning, Raghavan, Schütze, "Introduction to
 * Information Retrieval", 5.1.1 and Table 4.2. Web text has more distinct words.
 */
export const HEAPS = { k: 44, b: 0.49, bytesPerToken: 6 } as const;
/** A `word\tcount\n` line of a map output or the counts file: a 7.5-byte term (Table 4.2), a tab, a count, a newline. */
export const LINE_BYTES = 12;
/** A word of a map task's inline JSON answer: the line's bytes and `"":,`. */
export const INLINE_WORD_BYTES = 16;

/** "Lambda scaling behavior": each function gains up to 1,000 concurrent executions every 10 seconds. */
export const LAMBDA_SCALING = { executions: 1000, everySeconds: 10 } as const;
/**
 * "Configuring scaling behavior for SQS event source mappings": five concurrent batches
 * at first, then up to 300 more a minute, at most 1,000 per mapping.
 */
export const SQS_MAPPING_SCALING = { initial: 5, perMinute: 300, max: 1000 } as const;
/** "Lambda quotas": an account's concurrent executions by default (new accounts may have 10). */
export const ACCOUNT_CONCURRENCY = 1000;

/** The time of a start and a publish beyond their requests: a LIST page of 1,000 keys. */
export const LIST_PAGE_SECONDS = 0.1;

/** Words in `tokens` tokens of text, by Heaps' law. */
export function distinctWords(tokens: number): number {
  return tokens <= 0 ? 0 : Math.min(tokens, Math.round(HEAPS.k * tokens ** HEAPS.b));
}

/** How a counter reads `kind` in `mode`: its stored MB/s (never faster than one S3 GET) and text. */
export function readRate(kind: ContentKind, mode: Mode): ReadRate {
  if (kind === 'text') {
    const kernel = TEXT_MB_PER_SECOND[mode];
    return {
      storedMbPerSecond: Math.min(kernel, S3_STREAM_MB_PER_SECOND),
      textPerStored: 1,
      source: `${TEXT_SOURCE}: ${kernel} MB/s in ${mode} mode, capped by one S3 GET's`,
    };
  }
  return FORMAT_RATES[kind];
}
