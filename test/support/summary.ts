/** A summary of a small one-object job, for tests of what shows or keeps a summary. */
import type { Summary } from '../../lib/contracts/summary.js';

export function aSummary(fields: Partial<Summary> = {}): Summary {
  return {
    source: { uri: '/tmp/poems.txt', bytes: 1000, etag: 'e' },
    sources: { objects: 1, bytes: 1000 },
    mode: 'words',
    totalWords: 100,
    distinctWords: 10,
    chunks: 1,
    top: [],
    elapsedMs: 10,
    invalidSequences: 0,
    longTokens: 0,
    stats: {
      chunkSize: 1 << 20,
      concurrency: 1,
      tokenCapBytes: 4096,
      bytesScanned: 1000,
      uncompressedBytes: 1000,
      mapTasks: 1,
      partitions: 16,
      reduceTasks: 0,
      maxRssBytes: 1,
      phasesMs: { plan: 0, map: 0, reduce: 0, publish: 0 },
    },
    ...fields,
  };
}
