/**
 * `--min-count N` against oracles: Python's own `Counter(text.split())` through the CLI at
 * chunk sizes down to 1 byte, with 1 and 2 workers, merged inline and in reduce tasks;
 * records at 64 KiB against Python's readers; the top list and the report; and, as a
 * property, pruning after the reduce equals filtering the unpruned counts file, whatever
 * the chunking.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Summary } from '../../lib/contracts/summary.js';
import { PYTHON_WHITESPACE } from '../../lib/tokenize.js';
import { countingCli, runCli } from '../support/cli.js';
import { type Corpus, type Oracle, writeCorpus } from '../support/corpus.js';
import { Embedded } from '../support/embedded.js';
import { countsTsvOf } from '../support/oracle.js';
import { type PythonCounts, pythonCounts } from '../support/python-counter.js';
import { hostileBytes } from '../support/text.js';

/**
 * Hostile text, then words of a small vocabulary (two spellings of some: `words` mode
 * folds them) between any whitespace: counts from 1 to dozens, so pruning keeps some.
 */
const repetitiveBytes = fc
  .tuple(
    hostileBytes,
    fc.array(
      fc.tuple(
        fc.constantFrom('the', 'The', 'a', 'Straße', 'STRASSE', '東京', 'don’t', '😀', 'é'),
        fc.constantFrom(...PYTHON_WHITESPACE).map((cp) => String.fromCodePoint(cp)),
      ),
      { minLength: 10, maxLength: 80, size: 'max' },
    ),
  )
  .map(([hostile, words]) =>
    Buffer.concat([hostile, Buffer.from(` ${words.map(([w, space]) => w + space).join('')}`)]),
  );

const GENESIS = new URL('../../samples/kjv-genesis.txt', import.meta.url).pathname;
const UNICODE_MIX = new URL('../golden/unicode-mix.txt', import.meta.url).pathname;

let dir: string;
/** A few KiB of Genesis and of hostile Unicode (every whitespace, invalid bytes, a BOM). */
let mixed: string;
const pools = new Map<number, Embedded>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wordcount-min-count-'));
  const head = async (path: string, bytes: number) => {
    const data = await readFile(path);
    return data.subarray(0, data.lastIndexOf(10, bytes) + 1);
  };
  mixed = join(dir, 'mixed.txt');
  await writeFile(mixed, Buffer.concat([await head(UNICODE_MIX, 1500), await head(GENESIS, 1200)]));
  for (const size of [1, 2]) pools.set(size, await Embedded.create(size));
});

afterAll(async () => {
  for (const pool of pools.values()) await pool.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs `wordcount count … --json --counts FILE`; its summary and counts file. */
const count = countingCli(() => dir);

const rowsOf = (tsv: string) =>
  tsv
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const tab = line.lastIndexOf('\t');
      return { word: line.slice(0, tab), count: Number(line.slice(tab + 1)) };
    });

/** The summary tells every distinct word apart from the kept ones, as Python counted them. */
function expectSummary(summary: Summary, python: PythonCounts, minCount: number, top: number) {
  expect(summary.totalWords).toBe(python.totalWords);
  expect(summary.distinctWords).toBe(python.distinctWords);
  if (minCount > 1) expect(summary).toMatchObject({ minCount, keptWords: python.keptWords });
  else expect([summary.minCount, summary.keptWords]).toEqual([undefined, undefined]);
  expect(summary.top).toEqual(rowsOf(python.tsv).slice(0, top));
}

describe("--min-count against Python's Counter(text.split())", () => {
  for (const [chunk, workers, reduce] of [
    ['1', 1, 'auto'],
    ['1', 2, 'auto'],
    ['5', 1, 'auto'],
    ['5', 2, 'partitioned'],
    [undefined, 1, 'auto'],
    [undefined, 2, 'partitioned'],
  ] as const) {
    const how = `chunk ${chunk ?? 'auto'}, ${workers} worker(s)${reduce === 'partitioned' ? ', reduced in tasks' : ''}`;
    it(`keeps what Python keeps at min counts that keep all, some and none (${how})`, async () => {
      const all = pythonCounts(mixed);
      for (const minCount of [1, 2, 3, all.maxCount + 1]) {
        const python = pythonCounts(mixed, minCount);
        const { summary, tsv } = await count([
          mixed,
          '--mode',
          'whitespace',
          '--workers',
          String(workers),
          '--min-count',
          String(minCount),
          '--top',
          '40',
          ...(chunk ? ['--chunk-size', chunk] : []),
          ...(reduce === 'partitioned' ? ['--reduce', 'partitioned'] : []),
        ]);
        expect(tsv, `--min-count ${minCount}`).toBe(python.tsv);
        expectSummary(summary, python, minCount, 40);
        expect(summary.stats.reduceTasks > 0).toBe(reduce === 'partitioned');
      }
      expect(pythonCounts(mixed, 2).keptWords).toBeGreaterThan(0);
      expect(pythonCounts(mixed, 2).keptWords).toBeLessThan(all.distinctWords);
    }, 120_000);
  }

  it('lists and reports only the kept words, and tells distinct from kept', async () => {
    const python = pythonCounts(GENESIS, 50);
    const report = join(dir, 'genesis.html');
    const { summary, tsv } = await count([
      GENESIS,
      ...['--mode', 'whitespace', '--min-count', '50', '--top', '500', '--report', report],
    ]);
    expect(tsv).toBe(python.tsv);
    // Fewer words are kept than --top asks for: the top list is every kept word.
    expect(python.keptWords).toBeLessThan(500);
    expectSummary(summary, python, 50, 500);
    const html = await readFile(report, 'utf8');
    const json = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html);
    const { data, text } = JSON.parse(json?.[1] ?? '{}');
    expect(data).toMatchObject({ totalWords: python.totalWords, minCount: 50 });
    expect(data.distinctWords).toBe(python.keptWords);
    expect(data.top).toEqual(rowsOf(python.tsv).slice(0, 30));
    expect(text.figures).toContainEqual([
      'distinct words',
      python.distinctWords.toLocaleString('en-US'),
    ]);
    expect(text.figures).toContainEqual(['kept', `${python.keptWords} counted at least 50 times`]);
    expect(text.coverage).toMatch(
      new RegExp(
        `^Of ${python.distinctWords.toLocaleString('en-US')} distinct words, the ${python.keptWords} counted at least 50 times make up \\d+% of the text`,
      ),
    );
    const table = await runCli(['count', GENESIS, '--mode', 'whitespace', '--min-count', '50']);
    expect(table.stdout).toContain(
      `kept    ${python.keptWords} word(s) counted at least 50 times\n`,
    );
  });
});

describe('--min-count over records', () => {
  let corpus: Corpus;
  let oracle: Oracle;
  beforeAll(async () => {
    corpus = await writeCorpus(join(dir, 'corpus'), { docs: 120 });
    oracle = await corpus.oracle();
  }, 120_000);

  for (const workers of ['1', '2']) {
    it(`keeps what Python's readers and str.split() keep at 64 KiB chunks (${workers} worker(s))`, async () => {
      const counts = new Map(Object.entries(oracle.whitespace));
      const kept = new Map([...counts].filter(([, c]) => c >= 4));
      const { summary, tsv } = await count([
        corpus.dir,
        ...['--mode', 'whitespace', '--chunk-size', '64KiB', '--workers', workers],
        ...['--min-count', '4'],
      ]);
      expect(tsv).toBe(countsTsvOf(kept));
      expect(summary).toMatchObject({
        distinctWords: counts.size,
        minCount: 4,
        keptWords: kept.size,
      });
      expect(summary.records).toBe(oracle.records);
      expect(kept.size).toBeLessThan(counts.size);
    }, 120_000);
  }
});

describe('pruning after the reduce', () => {
  it('equals filtering the unpruned counts file, whatever the chunking', async () => {
    let n = 0;
    /** Runs that kept some words and left some out. */
    let between = 0;
    await fc.assert(
      fc.asyncProperty(
        repetitiveBytes,
        fc.integer({ min: 1, max: 6 }),
        fc.tuple(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 200 })),
        fc.constantFrom(1, 2),
        fc.constantFrom('auto', 'inline', 'partitioned'),
        async (bytes, minCount, [chunkSize, otherChunkSize], workers, reduce) => {
          const path = join(dir, `property-${n++}.txt`);
          await writeFile(path, bytes);
          const pool = pools.get(workers) as Embedded;
          const mode = n % 2 === 0 ? 'words' : 'whitespace';
          const whole = await pool.count([path], { mode, chunkSize: otherChunkSize, top: 1000 });
          const pruned = await pool.count([path], { mode, chunkSize, reduce, minCount, top: 5 });
          const kept = rowsOf(whole.tsv).filter((r) => r.count >= minCount);
          expect(pruned.tsv).toBe(kept.map((r) => `${r.word}\t${r.count}\n`).join(''));
          expect(pruned.summary.distinctWords).toBe(whole.summary.distinctWords);
          expect(pruned.summary.totalWords).toBe(whole.summary.totalWords);
          expect(pruned.summary.keptWords).toBe(minCount > 1 ? kept.length : undefined);
          expect(pruned.summary.top).toEqual(kept.slice(0, 5));
          expect(pruned.summary.stats.reduceTasks > 0).toBe(reduce === 'partitioned');
          if (kept.length > 0 && kept.length < whole.summary.distinctWords) between++;
        },
      ),
      { numRuns: 40 },
    );
    expect(between).toBeGreaterThan(10);
  }, 120_000);
});
