import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { summaryTable } from '../../lib/cli/render.js';
import type { Summary } from '../../lib/contracts.js';

const summary = (top: Summary['top']): Summary => ({
  source: { uri: '/tmp/poems.txt', bytes: 1000, etag: 'e' },
  sources: { objects: 1, bytes: 1000 },
  mode: 'words',
  totalWords: 100,
  distinctWords: 10,
  chunks: 1,
  top,
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
});

describe('the summary table', () => {
  it('lines its columns up by display width, CJK words (two cells a character) included', () => {
    const table = summaryTable(
      summary([
        { word: '的', count: 40 },
        { word: 'the', count: 30 },
        { word: '东京タワー', count: 12 },
        { word: 'straße', count: 9 },
        { word: '😀', count: 1 },
      ]),
    );
    const rows = table.split('\n').filter((line) => /^\s+\d+ {2}/.test(line));
    expect(rows).toHaveLength(5);
    const header = table.split('\n').find((line) => /^ +# +word/.test(line)) as string;
    // Where the count column ends, in terminal cells: the line without its share column.
    const countEnd = (line: string) => stringWidth(line.replace(/ +(share|[\d.]+%)$/, ''));
    expect(rows.map(countEnd)).toEqual(rows.map(() => countEnd(header)));
    expect(rows[2]).toMatch(/东京タワー +12 /);
  });
});
