/**
 * `minCount` as pure functions: the sorted lines and the kept total of a table, the
 * option where uploads and requests carry it, the job id, and the report of pruned counts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JobRequestSchema } from '../../lib/contracts/requests.js';
import { UsageError } from '../../lib/errors.js';
import { metadataOptions } from '../../lib/job/request/input-options.js';
import { type InputName, jobIdFor } from '../../lib/keys.js';
import { CountTable } from '../../lib/reduce/count-table.js';
import { keptOfTable, sortTable } from '../../lib/reduce/merge-partials.js';
import { keptOf, sortedLines } from '../../lib/reduce/sort-entries.js';
import { ReportAccumulator } from '../../lib/report/report-data.js';
import { countsTsvOf } from '../support/oracle.js';
import { concat, count, linesOf, partial, sumOf, text } from '../support/partials.js';

/** The counts file of `counts` filtered the obvious way: every line of a count >= minCount. */
function filtered(counts: Map<string, number>, minCount: number): string {
  return countsTsvOf(new Map([...counts].filter(([, c]) => c >= minCount)));
}

describe('pruning sorted counts at a minimum count', () => {
  it('writes exactly the lines of the whole counts file whose count is at least minCount', () => {
    fc.assert(
      fc.property(fc.array(partial, { maxLength: 6 }), count, (partials, minCount) => {
        const table = new CountTable(2);
        for (const p of partials) table.addLines(linesOf(p), 'partial');
        const expected = sumOf(partials);
        const sorted = sortTable(table);
        const kept = filtered(expected, minCount);
        expect(text(concat(sortedLines(sorted, { pieceBytes: 7, minCount })))).toBe(kept);
        const keptLines = kept === '' ? 0 : kept.split('\n').length - 1;
        expect(keptOf(sorted, minCount)).toBe(keptLines);
        expect(keptOfTable(table, minCount)).toBe(keptLines);
        // The top of the pruned lines is the pruned top of every line.
        expect(text(concat(sortedLines(sorted, { limit: 3, minCount })))).toBe(
          kept
            .split('\n')
            .slice(0, Math.min(3, keptLines))
            .map((l) => `${l}\n`)
            .join(''),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every word at minCount 1 and none above the biggest count', () => {
    const table = new CountTable(2);
    table.addLines(
      linesOf([
        ['a', 3],
        ['b', 1],
        ['c', 2],
        ['a', 1],
      ]),
      'partial',
    );
    const sorted = sortTable(table);
    expect(keptOf(sorted, 1)).toBe(3);
    expect(keptOfTable(table, 1)).toBe(3);
    expect(text(concat(sortedLines(sorted, { minCount: 2 })))).toBe('a\t4\nc\t2\n');
    expect(text(concat(sortedLines(sorted, { minCount: 5 })))).toBe('');
    expect(keptOf(sorted, 5)).toBe(0);
    expect(keptOfTable(table, 5)).toBe(0);
  });
});

describe('minCount where jobs are asked', () => {
  it('is read from an upload’s metadata as wordcount-min-count, a bad value refused', () => {
    expect(metadataOptions('s3://b/k', { 'wordcount-min-count': '5' })).toEqual({ minCount: 5 });
    for (const value of ['0', 'five', '-2', '1.5']) {
      const call = () => metadataOptions('s3://b/k.txt', { 'wordcount-min-count': value });
      expect(call).toThrow(UsageError);
      expect(call).toThrow(`s3://b/k.txt: its metadata x-amz-meta-wordcount-min-count: '${value}'`);
    }
  });

  it('is a whole number of at least 1 in a direct request', () => {
    const request = { bucket: 'b', key: 'input/x' };
    expect(JobRequestSchema.parse({ ...request, minCount: 3 }).minCount).toBe(3);
    for (const minCount of [0, 2.5, '3']) {
      expect(JobRequestSchema.safeParse({ ...request, minCount }).success).toBe(false);
    }
  });

  it('goes into the job id above 1, and 1 is the same job as none', () => {
    const base = {
      bucket: 'b',
      input: { kind: 'key', key: 'input/x' } as InputName,
      objects: [{ key: 'input/x', etag: '"e1"' }],
      mode: 'words',
      chunkSize: 16,
    };
    expect(jobIdFor({ ...base, minCount: 1 })).toBe(jobIdFor(base));
    expect(jobIdFor({ ...base, minCount: 2 })).not.toBe(jobIdFor(base));
    expect(jobIdFor({ ...base, minCount: 2 })).not.toBe(jobIdFor({ ...base, minCount: 3 }));
  });
});

describe('the report of pruned counts', () => {
  const lines: [string, number][] = [
    ['the', 6],
    ['and', 3],
    ['of', 2],
  ];

  it('takes the kept words as the most frequent of the whole text', () => {
    // The text had 14 words: the kept ones make up 11, three more were seen once.
    const report = new ReportAccumulator(14, 30, { minCount: 2, words: 3 });
    for (const [w, c] of lines) report.add(w, c);
    const data = report.finish();
    expect(data).toMatchObject({ totalWords: 14, distinctWords: 3, minCount: 2 });
    expect(data.top.map((t) => t.word)).toEqual(['the', 'and', 'of']);
    expect(data.coverage).toEqual([{ share: 0.5, rank: 2 }]);
  });

  it('refuses counts that are not the job’s kept words', () => {
    const below = new ReportAccumulator(14, 30, { minCount: 3, words: 3 });
    below.add('the', 6);
    below.add('and', 3);
    expect(() => below.add('of', 2)).toThrow(/below the job's minimum count of 3/);
    const fewer = new ReportAccumulator(14, 30, { minCount: 2, words: 4 });
    for (const [w, c] of lines) fewer.add(w, c);
    expect(() => fewer.finish()).toThrow(/3 words counted at least 2 times, not the job's 4/);
    // Unpruned, the counts must add up to the text's words.
    const whole = new ReportAccumulator(14);
    for (const [w, c] of lines) whole.add(w, c);
    expect(() => whole.finish()).toThrow(/add up to 11 words, not the 14/);
  });
});
