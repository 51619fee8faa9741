/** The summary of a counted job, whichever driver ran it. */
import type { Summary } from '../contracts.js';
import type { JobCost } from '../cost/job-cost.js';
import { TOKEN_CAP_BYTES } from '../kernel/range-counter.js';
import type { Mode } from '../tokenize.js';

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
  };
  distinct: number;
  top: Summary['top'];
  maxRssBytes: number;
  elapsedMs: number;
  phasesMs: Summary['stats']['phasesMs'];
  cost?: JobCost;
}

export function summaryOf(counted: Counted): Summary {
  const bytes = counted.objects.reduce((sum, o) => sum + o.size, 0);
  return {
    source: { uri: counted.source.uri, bytes, etag: counted.source.etag },
    sources: { objects: counted.objects.length, bytes },
    mode: counted.mode,
    totalWords: counted.map.tokens,
    distinctWords: counted.distinct,
    chunks: counted.mapTasks,
    top: counted.top,
    elapsedMs: Math.round(counted.elapsedMs),
    invalidSequences: counted.map.invalidSequences,
    longTokens: counted.map.longTokens,
    stats: {
      chunkSize: counted.chunkSize,
      concurrency: counted.concurrency,
      tokenCapBytes: TOKEN_CAP_BYTES,
      bytesScanned: counted.map.bytesScanned,
      uncompressedBytes: counted.map.uncompressedBytes,
      mapTasks: counted.mapTasks,
      partitions: counted.partitions,
      reduceTasks: counted.reduceTasks,
      maxRssBytes: counted.maxRssBytes,
      phasesMs: counted.phasesMs,
    },
    ...(counted.cost && { cost: counted.cost }),
  };
}
