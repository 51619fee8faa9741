/**
 * The report's pure parts: the streaming accumulator against a brute-force computation
 * over the whole list, the Zipf fit on exact power laws, the counts reader's checks, and
 * the page's escaping of hostile words.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Summary } from '../../lib/contracts/summary.js';
import { CorruptInputError, WordcountError } from '../../lib/errors.js';
import { forEachCountLine } from '../../lib/report/count-lines.js';
import { reportDataFromCounts, totalOfCounts } from '../../lib/report/from-counts.js';
import { jsonForScript, renderReport } from '../../lib/report/render-report.js';
import {
  fitZipf,
  nextSampleRank,
  type RankSample,
  ReportAccumulator,
} from '../../lib/report/report-data.js';
import { reportText } from '../../lib/report/report-text.js';
import { aSummary } from '../support/summary.js';

const encoder = new TextEncoder();

/** Every rank the accumulator should sample for `n` words, by the rule written out again. */
function bruteSampleRanks(n: number): number[] {
  const ranks: number[] = [];
  for (let r = 1; r <= n; r = r < 10 ? r + 1 : Math.max(r + 1, Math.round(r * 10 ** (1 / 20)))) {
    ranks.push(r);
  }
  if (n > 0 && ranks.at(-1) !== n) ranks.push(n);
  return ranks;
}

async function* piecesOf(text: string, pieceBytes: number): AsyncGenerator<Uint8Array> {
  const bytes = encoder.encode(text);
  for (let i = 0; i < bytes.length; i += pieceBytes) yield bytes.slice(i, i + pieceBytes);
}

const descendingCounts = fc
  .array(fc.integer({ min: 1, max: 2000 }), { maxLength: 2500 })
  .map((counts) => counts.sort((a, b) => b - a));

describe('the report accumulator', () => {
  it('equals a brute-force computation over the whole list', () => {
    fc.assert(
      fc.property(descendingCounts, fc.integer({ min: 0, max: 40 }), (counts, topSize) => {
        const total = counts.reduce((a, b) => a + b, 0);
        const report = new ReportAccumulator(total, topSize);
        counts.forEach((count, i) => {
          report.add(report.wantsWord ? `w${i}` : '', count);
        });
        const data = report.finish();

        const prefix: number[] = [];
        for (const c of counts) prefix.push((prefix.at(-1) ?? 0) + c);
        expect(data.totalWords).toBe(total);
        expect(data.distinctWords).toBe(counts.length);
        expect(data.top).toEqual(
          counts.slice(0, topSize).map((count, i) => ({ word: `w${i}`, count })),
        );
        expect(data.samples.map((s) => s.rank)).toEqual(bruteSampleRanks(counts.length));
        for (const s of data.samples) {
          expect(s.count).toBe(counts[s.rank - 1]);
          expect(s.cumulative).toBe(prefix[s.rank - 1]);
        }
        const expected = [0.5, 0.9].map((share) => ({
          share,
          rank: prefix.findIndex((p) => p / total >= share - 1e-12) + 1,
        }));
        expect(data.coverage).toEqual(total === 0 ? [] : expected);
      }),
      { numRuns: 200 },
    );
  });

  it('samples every rank up to 10, then about 20 per decade', () => {
    const ranks = bruteSampleRanks(10_000_000);
    expect(ranks.slice(0, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const decade of [100, 1000, 10_000, 100_000, 1_000_000]) {
      const inDecade = ranks.filter((r) => r >= decade && r < decade * 10).length;
      expect(inDecade).toBeGreaterThanOrEqual(19);
      expect(inDecade).toBeLessThanOrEqual(21);
    }
    expect(nextSampleRank(10)).toBe(11);
  });

  it('refuses counts that rise, and counts that do not add up to the total', () => {
    const rising = new ReportAccumulator(10);
    rising.add('a', 3);
    expect(() => rising.add('b', 4)).toThrow(WordcountError);
    const short = new ReportAccumulator(10);
    short.add('a', 3);
    expect(() => short.finish()).toThrow(/add up to 3 words, not the 10/);
    const over = new ReportAccumulator(2);
    expect(() => over.add('a', 3)).toThrow(/more than the 2 words/);
  });
});

describe('the Zipf fit', () => {
  it('finds the exponent of an exact power law', () => {
    for (const s of [0.7, 1, 1.3]) {
      const samples: RankSample[] = bruteSampleRanks(100_000).map((rank) => ({
        rank,
        count: 1e9 / rank ** s,
        cumulative: 0,
      }));
      const fit = fitZipf(samples);
      expect(fit?.exponent).toBeCloseTo(s, 9);
      expect(fit?.constant).toBeCloseTo(1e9, 0);
      expect(fit?.r2).toBeCloseTo(1, 9);
    }
  });

  it('finds it from rounded counts streamed through the accumulator', () => {
    const s = 1.1;
    const counts: number[] = [];
    for (let r = 1; ; r++) {
      const c = Math.round(1e6 / r ** s);
      if (c < 1) break;
      counts.push(c);
    }
    const report = new ReportAccumulator(counts.reduce((a, b) => a + b, 0));
    for (const c of counts) report.add('', c);
    expect(report.finish().zipf?.exponent).toBeCloseTo(s, 2);
  });

  it('leaves words seen once out, and gives no fit without two ranks left', () => {
    expect(
      fitZipf([
        { rank: 1, count: 5, cumulative: 5 },
        { rank: 2, count: 1, cumulative: 6 },
      ]),
    ).toBeUndefined();
    const flat = fitZipf([
      { rank: 1, count: 2, cumulative: 2 },
      { rank: 2, count: 2, cumulative: 4 },
    ]);
    expect(flat).toMatchObject({ exponent: -0, r2: 1, fromRank: 1, toRank: 2 });
  });
});

describe('reading a counts file', () => {
  const tsv = 'the\t5\nand\t3\nof\t3\nß\t1\n東京\t1\n';

  it('reads lines split anywhere between pieces, the last newline optional', async () => {
    for (const pieceBytes of [1, 2, 3, 7, 1000]) {
      for (const text of [tsv, tsv.slice(0, -1)]) {
        const data = await reportDataFromCounts(piecesOf(text, pieceBytes), 13, 'c.tsv', 3);
        expect(data.top).toEqual([
          { word: 'the', count: 5 },
          { word: 'and', count: 3 },
          { word: 'of', count: 3 },
        ]);
        expect(data.distinctWords).toBe(5);
        expect(await totalOfCounts(piecesOf(text, pieceBytes), 'c.tsv')).toBe(13);
      }
    }
  });

  it.each([
    ['a\t2\nb 1\n', 'c.tsv:2: not a line of word<TAB>count'],
    ['a\t2\n\nb\t1\n', 'c.tsv:2: not a line of word<TAB>count'],
    ['a\t2\n\t1\n', 'c.tsv:2: not a line of word<TAB>count'],
    ['a\t2\nb\t-1\n', 'c.tsv:2:'],
    ['a\t2\nb\t01\n', 'c.tsv:2:'],
    ['a\t2\nb\t0\n', 'c.tsv:2:'],
    ['a\t2\nb\t1e3\n', 'c.tsv:2:'],
    ['a\t2\r\nb\t1\r\n', 'c.tsv:1:'],
    ['a\t2\nb\t3\n', 'c.tsv:2: count 3 after 2: the lines are not sorted by count descending'],
    ['b\t2\na\t2\n', 'c.tsv:2: "a" is not after the word before it in UTF-8 byte order'],
    ['a\t2\na\t2\n', 'c.tsv:2: "a" is not after'],
  ])('names the file and line of a bad line: %j', async (text, message) => {
    const reading = forEachCountLine(piecesOf(text, 3), 'c.tsv', () => {});
    await expect(reading).rejects.toThrow(CorruptInputError);
    await expect(forEachCountLine(piecesOf(text, 3), 'c.tsv', () => {})).rejects.toThrow(message);
  });

  it('orders the words of one count by their UTF-8 bytes, not UTF-16', async () => {
    const inOrder = '\uffff\t2\n\u{10000}\t2\n';
    await expect(forEachCountLine(piecesOf(inOrder, 1), 'c.tsv', () => {})).resolves.toBe(2);
    const swapped = '\u{10000}\t2\n\uffff\t2\n';
    await expect(forEachCountLine(piecesOf(swapped, 1), 'c.tsv', () => {})).rejects.toThrow(
      'c.tsv:2:',
    );
  });

  it('names the file when the counts do not add up to the total', async () => {
    await expect(reportDataFromCounts(piecesOf(tsv, 4), 14, 'c.tsv')).rejects.toThrow(
      'c.tsv: the counts add up to 13 words, not the 14 of the text',
    );
    await expect(reportDataFromCounts(piecesOf(tsv, 4), 12, 'c.tsv')).rejects.toThrow(
      /^c\.tsv:5: the counts add up to more than the 12 words/,
    );
  });
});

describe('the report page', () => {
  const hostile = '</script><script>alert(1)</script>';
  const words = [hostile, '<img src=x onerror=alert(2)>', '&amp;"\'', 'a\u2028b\u2029c', '東京'];

  it('carries words only as escaped JSON', () => {
    const json = jsonForScript({ words });
    expect(json).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(json)).toEqual({ words });
    const report = new ReportAccumulator(words.length);
    for (const w of words) report.add(w, 1);
    const html = renderReport(report.finish());
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html.match(/<script/g)).toHaveLength(3);
    expect(html).toContain('Content-Security-Policy" content="default-src \'none\'');
  });

  it('shows a summary field it does not know, whatever its shape, folded away', () => {
    const report = new ReportAccumulator(3);
    report.add('a', 3);
    const summary = {
      ...aSummary({ source: { uri: 'book.txt', bytes: 6, etag: 'e' }, totalWords: 3 }),
      cost: { usd: 0.000012, lambda: { invocations: 2 }, note: 'estimate' },
    } as unknown as Summary;
    const text = reportText(report.finish(), summary);
    expect(text.subtitle).toBe('book.txt');
    expect(text.figures).toContainEqual(['words', '3']);
    expect(text.details).toEqual([
      ['cost usd', '0.000012'],
      ['cost lambda invocations', '2'],
      ['cost note', 'estimate'],
    ]);
  });
});
