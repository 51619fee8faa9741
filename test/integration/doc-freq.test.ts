/**
 * `--doc-freq` against oracles: Python's own `str.split()` with a `set()` per file over a
 * directory of text files (a file is a document, read whole) at chunk sizes down to 1
 * byte, 1 and 2 workers, merged inline and in reduce tasks, with n-grams and a minimum
 * count; records (each a document) at 64 KiB against Python's readers; the report of a
 * three-column counts file; and, as a property, any chunking of hostile files in either
 * mode gives the reference tokenizer's counts and documents per file.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countingCli, runCli } from '../support/cli.js';
import { type Corpus, type Oracle, writeCorpus } from '../support/corpus.js';
import { Embedded } from '../support/embedded.js';
import { pythonDocFreq, referenceDocFreqTsv } from '../support/ngram-oracle.js';
import { countsTsvOf } from '../support/oracle.js';
import { hostileBytes } from '../support/text.js';

const GENESIS = new URL('../../samples/kjv-genesis.txt', import.meta.url).pathname;
const UNICODE_MIX = new URL('../golden/unicode-mix.txt', import.meta.url).pathname;

let dir: string;
/** Genesis cut into files of a few chapters, hostile Unicode, a BOM, an empty file. */
let books: string;
let bookFiles: string[];
const pools = new Map<number, Embedded>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wordcount-doc-freq-'));
  books = join(dir, 'books');
  await mkdir(books);
  const genesis = await readFile(GENESIS, 'utf8');
  // Chapters start at verse 1 (`Ge12:1 ...`): five chapters a file, ten files.
  const chapters = genesis.split(/\n(?=Ge\d+:1 )/);
  expect(chapters.length).toBe(50);
  bookFiles = [];
  for (let i = 0; i < 10; i++) {
    const path = join(books, `genesis-${String(i).padStart(2, '0')}.txt`);
    await writeFile(path, `${chapters.slice(i * 5, i * 5 + 5).join('\n')}\n`);
    bookFiles.push(path);
  }
  const extra = {
    'mixed.txt': (await readFile(UNICODE_MIX)).subarray(0, 1500),
    'bom.txt': Buffer.from('\ufeffIn the beginning\n'),
    'empty.txt': Buffer.alloc(0),
  };
  for (const [name, bytes] of Object.entries(extra)) {
    await writeFile(join(books, name), bytes);
    bookFiles.push(join(books, name));
  }
  bookFiles.sort();
  for (const size of [1, 2]) pools.set(size, await Embedded.create(size));
}, 60_000);

afterAll(async () => {
  for (const pool of pools.values()) await pool.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs `wordcount count … --json --counts FILE`; its summary and counts file. */
const count = countingCli(() => dir);

describe("--doc-freq against Python's set(text.split()) per file", () => {
  for (const [chunk, workers, reduce] of [
    ['1', 1, 'auto'],
    ['1', 2, 'partitioned'],
    ['3KiB', 2, 'auto'],
    [undefined, 1, 'auto'],
    [undefined, 2, 'partitioned'],
  ] as const) {
    const how = `chunk ${chunk ?? 'auto'}, ${workers} worker(s)${reduce === 'partitioned' ? ', reduced in tasks' : ''}`;
    it(`counts each word's files, a file read whole (${how})`, async () => {
      const python = pythonDocFreq(bookFiles);
      const { summary, tsv } = await count([
        books,
        ...['--mode', 'whitespace', '--doc-freq', '--workers', String(workers)],
        ...(chunk ? ['--chunk-size', chunk] : []),
        ...(reduce === 'partitioned' ? ['--reduce', 'partitioned'] : []),
      ]);
      expect(tsv).toBe(python.tsv);
      expect(summary).toMatchObject({
        docFreq: true,
        documents: python.documents,
        distinctWords: python.distinctWords,
      });
      // Every Genesis file, the BOM file and the hostile one say "the".
      expect(summary.top[0]).toEqual({ word: 'the', count: expect.any(Number), docs: 12 });
      expect(summary.stats.reduceTasks > 0).toBe(reduce === 'partitioned');
    }, 120_000);
  }

  it('with --ngram 2 and --min-count, and in the table', async () => {
    const python = pythonDocFreq(bookFiles, 2);
    const kept = python.tsv.split('\n').filter((l) => l && Number(l.split('\t')[1]) >= 3);
    const { summary, tsv } = await count([
      books,
      ...['--mode', 'whitespace', '--doc-freq', '--ngram', '2', '--min-count', '3'],
      ...['--chunk-size', '2KiB', '--workers', '2'],
    ]);
    expect(tsv).toBe(kept.map((l) => `${l}\n`).join(''));
    // Thirteen files, one of them empty: twelve documents.
    expect(summary).toMatchObject({ ngram: 2, keptWords: kept.length, documents: 12 });
    expect(python.documents).toBe(12);
    const table = await runCli(['count', books, '--doc-freq']);
    expect(table.stdout).toContain(', document frequency over 12 document(s), ');
  });

  it('makes a report from the three columns, and refuses documents above the count', async () => {
    const { tsv } = await count([books, '--doc-freq']);
    const counts = join(dir, 'three.tsv');
    await writeFile(counts, tsv);
    const ok = await runCli(['report', counts, '--out', join(dir, 'three.html')]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const [first, ...rest] = tsv.split('\n');
    const [word, n] = (first as string).split('\t');
    await writeFile(counts, [`${word}\t${n}\t${Number(n) + 1}`, ...rest].join('\n'));
    const bad = await runCli(['report', counts, '--out', join(dir, 'bad.html')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${counts}:1: not a line of word<TAB>count`);
  });
});

describe('--doc-freq over records', () => {
  let corpus: Corpus;
  let oracle: Oracle;
  beforeAll(async () => {
    corpus = await writeCorpus(join(dir, 'corpus'), { docs: 120 });
    oracle = await corpus.oracle();
  }, 120_000);

  for (const workers of ['1', '2']) {
    it(`counts the records each word occurs in, at 64 KiB chunks (${workers} worker(s))`, async () => {
      const { summary, tsv } = await count([
        corpus.dir,
        ...['--mode', 'whitespace', '--doc-freq', '--chunk-size', '64KiB', '--workers', workers],
      ]);
      const counts = new Map(Object.entries(oracle.whitespace));
      expect(tsv).toBe(countsTsvOf(counts, new Map(Object.entries(oracle.docFreq))));
      expect(summary).toMatchObject({ documents: oracle.records, records: oracle.records });
      expect(summary.stats.mapTasks).toBeGreaterThan(corpus.names.length);
    }, 120_000);
  }
});

describe('document frequency under any chunking', () => {
  it("gives the reference's counts and documents per file, in both modes", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(hostileBytes, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 300 }),
        fc.constantFrom(1, 2),
        fc.constantFrom('words', 'whitespace'),
        fc.constantFrom(1, 2),
        fc.constantFrom('auto', 'partitioned'),
        async (files, chunkSize, workers, mode, order, reduce) => {
          const paths: string[] = [];
          const run = join(dir, `property-${n++}`);
          await mkdir(run);
          for (const [i, bytes] of files.entries()) {
            paths.push(join(run, `${i}.txt`));
            await writeFile(paths[i] as string, bytes);
          }
          const pool = pools.get(workers) as Embedded;
          const { summary, tsv } = await pool.count(paths, {
            mode,
            chunkSize,
            reduce,
            records: { docFreq: true, ...(order > 1 && { ngram: order }) },
          });
          const counted = files.filter((f) => f.length > 0);
          expect(tsv).toBe(referenceDocFreqTsv(mode, counted, order));
          expect(summary.documents).toBe(counted.length);
        },
      ),
      { numRuns: 50 },
    );
  }, 240_000);

  it("gives the reference's counts and documents per record of JSON Lines split anywhere", async () => {
    let n = 0;
    const decoder = new TextDecoder();
    const encoder = new TextEncoder();
    await fc.assert(
      fc.asyncProperty(
        // Records' texts: hostile bytes as Python's json would hold them (decoded), lines inside.
        fc.array(
          hostileBytes.map((b) =>
            decoder.decode(b).replace(/ (?=\S)/g, (m, at) => (at % 7 ? m : '\n')),
          ),
          { minLength: 1, maxLength: 12 },
        ),
        fc.integer({ min: 1, max: 400 }),
        fc.constantFrom(1, 2),
        fc.constantFrom('words', 'whitespace'),
        fc.constantFrom(1, 2),
        fc.constantFrom('auto', 'partitioned'),
        async (texts, chunkSize, workers, mode, order, reduce) => {
          const path = join(dir, `records-${n++}.jsonl`);
          await writeFile(path, texts.map((text) => `${JSON.stringify({ text })}\n`).join(''));
          const pool = pools.get(workers) as Embedded;
          const { summary, tsv } = await pool.count([path], {
            mode,
            chunkSize,
            reduce,
            records: { docFreq: true, ...(order > 1 && { ngram: order }) },
          });
          const records = texts.map((t) => encoder.encode(t));
          expect(tsv).toBe(referenceDocFreqTsv(mode, records, order, false));
          expect(summary.documents).toBe(texts.length);
        },
      ),
      { numRuns: 50 },
    );
  }, 240_000);
});
