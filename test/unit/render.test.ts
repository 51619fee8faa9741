import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { summaryTable } from '../../lib/cli/render.js';
import type { Summary } from '../../lib/contracts/summary.js';
import { aSummary } from '../support/summary.js';

const summary = (top: Summary['top']): Summary => aSummary({ top });

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
