/**
 * `--ngram N` against oracles: Python's own `str.split()` line by line through the CLI at
 * chunk sizes down to 1 byte, with 1 and 2 workers, merged inline and in reduce tasks;
 * records at 64 KiB against Python's readers; words mode (Latin, Chinese by jieba)
 * against the reference tokenizer; and, as a property, n-gram ownership across range
 * boundaries: any chunking of hostile text with many lines gives the single pass's
 * n-grams, their total, the invalid sequences and the long tokens.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countingCli, runCli } from '../support/cli.js';
import { type Corpus, type Oracle, writeCorpus } from '../support/corpus.js';
import { Embedded } from '../support/embedded.js';
import { pythonNgrams, referenceNgrams } from '../support/ngram-oracle.js';
import { countsTsvOf } from '../support/oracle.js';
import { hostileBytes, longTokenBytes } from '../support/text.js';

const GENESIS = new URL('../../samples/kjv-genesis.txt', import.meta.url).pathname;
const CJK = new URL('../../samples/cjk-sample.txt', import.meta.url).pathname;
const UNICODE_MIX = new URL('../golden/unicode-mix.txt', import.meta.url).pathname;

let dir: string;
/** A few KiB of hostile Unicode (every whitespace, invalid bytes, a BOM) and of Genesis. */
let mixed: string;
const pools = new Map<number, Embedded>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wordcount-ngram-'));
  const head = async (path: string, bytes: number) => {
    const data = await readFile(path);
    return data.subarray(0, data.lastIndexOf(10, bytes) + 1);
  };
  mixed = join(dir, 'mixed.txt');
  await writeFile(mixed, Buffer.concat([await head(UNICODE_MIX, 1500), await head(GENESIS, 1500)]));
  for (const size of [1, 2]) pools.set(size, await Embedded.create(size));
});

afterAll(async () => {
  for (const pool of pools.values()) await pool.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs `wordcount count … --json --counts FILE`; its summary and counts file. */
const count = countingCli(() => dir);

describe("--ngram against Python's str.split(), line by line", () => {
  for (const [chunk, workers, reduce] of [
    ['1', 1, 'auto'],
    ['1', 2, 'partitioned'],
    ['7', 2, 'auto'],
    [undefined, 1, 'auto'],
    [undefined, 2, 'partitioned'],
  ] as const) {
    const how = `chunk ${chunk ?? 'auto'}, ${workers} worker(s)${reduce === 'partitioned' ? ', reduced in tasks' : ''}`;
    it(`counts what Python counts for n = 2 and 3 (${how})`, async () => {
      for (const n of [2, 3]) {
        const python = pythonNgrams(mixed, n);
        const { summary, tsv } = await count([
          mixed,
          ...['--mode', 'whitespace', '--ngram', String(n), '--workers', String(workers)],
          ...(chunk ? ['--chunk-size', chunk] : []),
          ...(reduce === 'partitioned' ? ['--reduce', 'partitioned'] : []),
        ]);
        expect(tsv, `--ngram ${n}`).toBe(python.tsv);
        expect(summary).toMatchObject({
          ngram: n,
          totalWords: python.totalWords,
          distinctWords: python.distinctWords,
        });
        expect(summary.stats.reduceTasks > 0).toBe(reduce === 'partitioned');
      }
    }, 120_000);
  }

  it('stops at a line end: the last word of a line and the first of the next are no bigram', async () => {
    const path = join(dir, 'lines.txt');
    await writeFile(path, 'a b\nc d\r\ne\u2028f\n\nb c');
    const { summary, tsv } = await count([path, '--mode', 'whitespace', '--ngram', '2']);
    // \r and U+2028 are whitespace to str.split(), not line ends: e f is a bigram, d e not.
    expect(tsv).toBe('a b\t1\nb c\t1\nc d\t1\ne f\t1\n');
    expect(summary.totalWords).toBe(4);
    expect(tsv).toBe(pythonNgrams(path, 2).tsv);
  });

  it('counts a line of 60,000 words, its tokens taken in batches, as Python does', async () => {
    const path = join(dir, 'long-line.txt');
    const words = Array.from({ length: 60_000 }, (_, i) => `w${(i * 7919) % 997}`);
    await writeFile(path, `${words.join(' ')}\nshort line here\n`);
    for (const n of [2, 5]) {
      const python = pythonNgrams(path, n);
      const { summary, tsv } = await count([path, '--mode', 'whitespace', '--ngram', String(n)]);
      expect(tsv).toBe(python.tsv);
      expect(summary.totalWords).toBe(60_000 - n + 1 + Math.max(0, 3 - n + 1));
    }
  });

  it('combines with --min-count and names the order in the table', async () => {
    const python = pythonNgrams(GENESIS, 2);
    const kept = python.tsv.split('\n').filter((l) => l && Number(l.split('\t')[1]) >= 20);
    const { summary, tsv } = await count([
      GENESIS,
      ...['--mode', 'whitespace', '--ngram', '2', '--min-count', '20', '--workers', '2'],
    ]);
    expect(tsv).toBe(kept.map((l) => `${l}\n`).join(''));
    expect(summary).toMatchObject({ distinctWords: python.distinctWords, keptWords: kept.length });
    const table = await runCli(['count', GENESIS, '--ngram', '3', '--workers', '2']);
    expect(table.stdout).toMatch(/^mode {4}words \(segmenter auto\), 3-grams, /m);
    expect(table.stdout).toMatch(/^ +1 {2}the land of +102 /m);
  });

  it('refuses orders outside 1 to 5, naming the option', async () => {
    for (const bad of ['0', '6', 'two']) {
      const run = await runCli(['count', GENESIS, '--ngram', bad]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--ngram must be a whole number from 1 to 5');
    }
    // 1 is single tokens: the same counts as without the option.
    const one = await count([GENESIS, '--ngram', '1']);
    const none = await count([GENESIS]);
    expect(one.tsv).toBe(none.tsv);
    expect(one.summary.ngram).toBeUndefined();
  });
});

describe('--ngram in words mode against the reference tokenizer', () => {
  for (const [name, path] of [
    ['hostile Unicode and Genesis', () => mixed],
    ['Chinese (jieba) and Japanese', () => CJK],
  ] as const) {
    for (const chunk of ['1', '64KiB']) {
      it(`${name}, chunk ${chunk}, 2 workers`, async () => {
        const bytes = await readFile(path());
        const reference = referenceNgrams('words', bytes, 2);
        const { summary, tsv } = await count([
          path(),
          ...['--ngram', '2', '--workers', '2', '--chunk-size', chunk],
        ]);
        expect(tsv).toBe(countsTsvOf(reference.counts));
        expect(summary).toMatchObject({
          totalWords: reference.total,
          invalidSequences: reference.invalidSequences,
        });
        expect(reference.total).toBeGreaterThan(50);
      }, 120_000);
    }
  }
});

describe('--ngram over records', () => {
  let corpus: Corpus;
  let oracle: Oracle;
  let text: string;
  beforeAll(async () => {
    corpus = await writeCorpus(join(dir, 'corpus'), { docs: 120 });
    oracle = await corpus.oracle();
    // Every record's text, each followed by a line feed: what a record's n-grams live in.
    text = join(dir, 'records.txt');
    await writeFile(text, oracle.text);
  }, 120_000);

  for (const workers of ['1', '2']) {
    it(`counts Python's readers' texts line by line at 64 KiB chunks (${workers} worker(s))`, async () => {
      const python = pythonNgrams(text, 2, false);
      const { summary, tsv } = await count([
        corpus.dir,
        ...['--mode', 'whitespace', '--ngram', '2', '--chunk-size', '64KiB', '--workers', workers],
      ]);
      expect(tsv).toBe(python.tsv);
      expect(summary).toMatchObject({ ngram: 2, totalWords: python.totalWords });
      expect(summary.records).toBe(oracle.records);
    }, 120_000);
  }
});

/** Hostile text cut into many lines: line feeds spliced in at random points. */
const linedBytes = fc
  .tuple(fc.oneof(hostileBytes, longTokenBytes), fc.array(fc.nat(), { maxLength: 12 }))
  .map(([bytes, cuts]) => {
    const out = [...bytes];
    for (const cut of cuts) out.splice(out.length === 0 ? 0 : cut % out.length, 0, 0x0a);
    return new Uint8Array(out);
  });

describe('n-gram ownership across range boundaries', () => {
  it("any chunking counts the single pass's n-grams, invalid sequences and long tokens", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        linedBytes,
        fc.integer({ min: 2, max: 4 }),
        fc.integer({ min: 1, max: 300 }),
        fc.constantFrom(1, 2),
        fc.constantFrom('words', 'whitespace'),
        async (bytes, order, chunkSize, workers, mode) => {
          const path = join(dir, `property-${n++}.txt`);
          await writeFile(path, bytes);
          const pool = pools.get(workers) as Embedded;
          const { summary, tsv } = await pool.count([path], {
            mode,
            chunkSize,
            records: { ngram: order },
          });
          const reference = referenceNgrams(mode, bytes, order);
          expect(tsv).toBe(countsTsvOf(reference.counts));
          expect(summary.totalWords).toBe(reference.total);
          expect(summary.invalidSequences).toBe(reference.invalidSequences);
          expect(summary.longTokens).toBe(reference.longTokens);
        },
      ),
      { numRuns: 60 },
    );
  }, 240_000);
});
