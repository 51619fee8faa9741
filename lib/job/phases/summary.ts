/** The summary of a counted job, whichever driver ran it, and its top words. */
import type { RecordOptions, RecordTotals } from '../../contracts/records.js';
import type { Summary } from '../../contracts/summary.js';
import type { JobCost } from '../../cost/job-cost.js';
import { TOKEN_CAP_BYTES } from '../../kernel/long-tokens.js';
import type { ObjectStore } from '../../ports.js';
import { forEachLine } from '../../reduce/order.js';
import { DEFAULT_SEGMENTER, segmenterVersions } from '../../segmenter.js';
import type { Mode } from '../../tokenize.js';

/** What the task function's use is tallied as in a job's cost, whatever a runner calls it. */
export const TASK_FUNCTION = 'counter';

/** Top words in a published summary; a direct request may ask for more, up to MAX_RESPONSE_TOP. */
export const PUBLISHED_TOP = 20;

export interface Counted {
  source: { uri: string; etag: string };
  objects: readonly { size: number }[];
  mode: Mode;
  concurrency: number;
  chunkSize: number;
  mapTasks: number;
  partitions: number;
  reduceTasks: number;
  /** What the map tasks counted. */
  map: {
    tokens: number;
    invalidSequences: number;
    longTokens: number;
    bytesScanned: number;
    uncompressedBytes: number;
    /** Documents counted under --doc-freq. */
    documents?: number;
    records?: RecordTotals;
  };
  /** How the objects were read (the request's options). */
  records?: RecordOptions;
  distinct: number;
  /** Words left out of the counts file and the top: those counted fewer times (absent: none). */
  minCount?: number;
  /** Words counted at least `minCount` times: the counts file's lines. */
  kept: number;
  top: Summary['top'];
  maxRssBytes: number;
  elapsedMs: number;
  phasesMs: Summary['stats']['phasesMs'];
  cost?: JobCost;
}

export function summaryOf(counted: Counted): Summary {
  const bytes = counted.objects.reduce((sum, o) => sum + o.size, 0);
  const records = counted.map.records;
  const options = counted.records ?? {};
  return {
    source: { uri: counted.source.uri, bytes, etag: counted.source.etag },
    sources: { objects: counted.objects.length, bytes },
    mode: counted.mode,
    totalWords: counted.map.tokens,
    distinctWords: counted.distinct,
    ...(counted.minCount !== undefined &&
      counted.minCount > 1 && {
        minCount: counted.minCount,
        keptWords: counted.kept,
      }),
    chunks: counted.mapTasks,
    top: counted.top,
    elapsedMs: Math.round(counted.elapsedMs),
    invalidSequences: counted.map.invalidSequences,
    longTokens: counted.map.longTokens,
    ...(records && {
      records: records.records,
      skippedRecords: records.skippedRecords,
      invalidRecords: records.invalidRecords,
      ...(records.firstInvalid && { firstInvalidRecord: records.firstInvalid }),
    }),
    ...(options.format !== undefined && options.format !== 'auto' && { format: options.format }),
    ...(options.field !== undefined && { field: options.field }),
    ...(options.strict && { strict: true }),
    ...(counted.mode === 'words' && {
      segmenter: options.segmenter ?? DEFAULT_SEGMENTER,
      segmenters: segmenterVersions(options.segmenter ?? DEFAULT_SEGMENTER),
    }),
    ...(options.ngram !== undefined && options.ngram > 1 && { ngram: options.ngram }),
    ...(options.docFreq && { docFreq: true, documents: counted.map.documents ?? 0 }),
    stats: {
      chunkSize: counted.chunkSize,
      concurrency: counted.concurrency,
      tokenCapBytes: TOKEN_CAP_BYTES,
      bytesScanned: counted.map.bytesScanned,
      uncompressedBytes: counted.map.uncompressedBytes,
      ...(records && { textBytes: records.textBytes }),
      mapTasks: counted.mapTasks,
      partitions: counted.partitions,
      reduceTasks: counted.reduceTasks,
      maxRssBytes: counted.maxRssBytes,
      phasesMs: counted.phasesMs,
    },
    ...(counted.cost && { cost: counted.cost }),
  };
}

/** The summary with `top` words: cut from its own list, or read from the head of the counts file. */
export async function withTop(
  store: ObjectStore,
  summary: Summary,
  countsKey: string,
  top: number | undefined,
): Promise<Summary> {
  if (top === undefined || top === summary.top.length) return summary;
  // The counts file holds keptWords lines when the job pruned them.
  const lines = summary.keptWords ?? summary.distinctWords;
  if (top < summary.top.length || summary.top.length === lines) {
    return { ...summary, top: summary.top.slice(0, top) };
  }
  const rows: Summary['top'] = [];
  let carry = new Uint8Array(0);
  for await (const piece of store.readRange(countsKey, { start: 0, pieceSize: 1 << 16 })) {
    const joined = new Uint8Array(carry.length + piece.length);
    joined.set(carry);
    joined.set(piece, carry.length);
    const complete = joined.lastIndexOf(10) + 1;
    forEachLine(
      joined.subarray(0, complete),
      (word, count, docs) => {
        if (rows.length < top)
          rows.push(docs === undefined ? { word, count } : { word, count, docs });
      },
      store.uri(countsKey),
    );
    carry = joined.slice(complete);
    if (rows.length >= top) break;
  }
  return { ...summary, top: rows };
}
