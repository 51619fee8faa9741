/**
 * The engine as a library, without the CLI: `import { countFile } from 'wordcount-fanout'`.
 * Counts local files, directories or standard input (`-`) as one job on the embedded
 * backend (a pool of worker threads), exactly as `wordcount count` does, and returns
 * the summary; `counts` also writes every word to that file.
 */
import type { Summary } from './contracts/summary.js';
import type { FormatOption } from './records/formats.js';
import type { SegmenterName } from './segmenter.js';
import type { Mode } from './tokenize.js';

export type { Summary } from './contracts/summary.js';
export { countBytes, type RangeCounts } from './kernel/range-counter.js';
export { FORMAT_OPTIONS, type FormatOption } from './records/formats.js';
export type { WordCount } from './reduce/order.js';
export { MODES, type Mode } from './tokenize.js';

export interface CountOptions {
  /** Token rules (default `words`). */
  mode?: Mode;
  /** Worker threads (default: the number of CPUs). */
  workers?: number;
  /** Bytes per map task (default: about 16 MiB, divided evenly among the workers). */
  chunkSize?: number;
  /** How many of the most frequent words the summary lists (default 20). */
  top?: number;
  /** A file to write every word and its count to, as TSV. */
  counts?: string;
  /**
   * Keep only words counted at least this many times in the counts file and `top`; the
   * summary's `distinctWords` still counts every word, `keptWords` those kept.
   */
  minCount?: number;
  /** How files are read: `auto` (default: by content, then name), text, jsonl, parquet, warc. */
  format?: FormatOption;
  /** JSON Lines and Parquet: the field counted, a dotted path into objects (default `text`). */
  field?: string;
  /** Fail on the first invalid record instead of counting and skipping it. */
  strict?: boolean;
  /** words mode: how runs of no-space scripts are segmented (default `auto`). */
  segmenter?: SegmenterName;
  /**
   * Count runs of this many consecutive tokens of a line (2 to 5), joined by one space,
   * instead of single tokens (1, the default).
   */
  ngram?: number;
  /**
   * Count each word's documents too (a record of JSON Lines, Parquet or WARC, else a
   * file): the counts file's third column, the summary's `documents`.
   */
  docFreq?: boolean;
}

/** Counts the words of `paths` (one path or several) as one job. */
export async function countFile(
  paths: string | readonly string[],
  options: CountOptions = {},
): Promise<Summary> {
  const { countLocal } = await import('./embedded/count-local.js');
  return countLocal(typeof paths === 'string' ? [paths] : paths, {
    mode: options.mode ?? 'words',
    workers: options.workers,
    chunkSize: options.chunkSize,
    top: options.top ?? 20,
    counts: options.counts,
    minCount: options.minCount,
    records: {
      ...(options.format !== undefined && options.format !== 'auto' && { format: options.format }),
      ...(options.field !== undefined && { field: options.field }),
      ...(options.strict && { strict: true }),
      ...(options.segmenter !== undefined &&
        options.segmenter !== 'auto' && { segmenter: options.segmenter }),
      ...(options.ngram !== undefined && options.ngram > 1 && { ngram: options.ngram }),
      ...(options.docFreq && { docFreq: true }),
    },
  });
}
