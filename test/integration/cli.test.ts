import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SummarySchema } from '../../lib/contracts.js';
import { countBytes, LONG_TOKEN_SUFFIX, TOKEN_CAP_BYTES } from '../../lib/count.js';
import { countsTsv, mergeEntries, sortCounts } from '../../lib/reduce.js';
import { runCli } from '../support/cli.js';

let dir: string;
const golden = (name: string) => new URL(`../golden/${name}`, import.meta.url).pathname;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wordcount-cli-'));
});

async function countJson(args: string[]) {
  const run = await runCli(['count', ...args, '--json']);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return SummarySchema.parse(JSON.parse(run.stdout));
}

/** Expected counts file for `bytes`, from the single-pass kernel. */
function expectedTsv(mode: 'words' | 'whitespace', bytes: Uint8Array): string {
  const counts = new Map<string, number>();
  mergeEntries(counts, countBytes(mode, bytes).entries);
  return [...countsTsv(sortCounts(counts))].join('');
}

describe('wordcount count', () => {
  it('prints exactly one JSON summary and writes the counts TSV byte for byte', async () => {
    const counts = join(dir, 'mix.tsv');
    const summary = await countJson([
      golden('unicode-mix.txt'),
      '--mode',
      'whitespace',
      '--chunk-size',
      '1KiB',
      '--workers',
      '2',
      '--counts',
      counts,
      '--top',
      '3',
    ]);
    const meta = JSON.parse(await readFile(golden('unicode-mix.whitespace.json'), 'utf8'));
    expect(summary.totalWords).toBe(meta.totalWords);
    expect(summary.distinctWords).toBe(meta.distinctWords);
    expect(summary.mode).toBe('whitespace');
    expect(summary.source.uri).toBe(golden('unicode-mix.txt'));
    expect(summary.chunks).toBe(Math.ceil(summary.source.bytes / 1024));
    expect(summary.top).toHaveLength(3);
    expect(summary.invalidSequences).toBeGreaterThan(0);
    expect(await readFile(counts, 'utf8')).toBe(
      await readFile(golden('unicode-mix.whitespace.tsv'), 'utf8'),
    );
  });

  it('defaults to words mode and prints a readable table without --json', async () => {
    const run = await runCli([
      'count',
      new URL('../../samples/kjv-genesis.txt', import.meta.url).pathname,
      '--top',
      '3',
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/mode {4}words/);
    expect(run.stdout).toMatch(/^ {3}1 {2}and\s+[\d,]+\s+[\d.]+%$/m);
    expect(run.stdout).toMatch(/^ {3}3 {2}of\s/m);
  });

  it('segments CJK text in words mode', async () => {
    const summary = await countJson([
      new URL('../../samples/cjk-sample.txt', import.meta.url).pathname,
      '--top',
      '200',
    ]);
    const words = summary.top.map((t) => t.word);
    expect(words).toEqual(expect.arrayContaining(['東京タワー', '日本', '中国', 'ภาษา', 'word']));
  });

  it('counts an empty file as zero words in zero chunks', async () => {
    const path = join(dir, 'empty.txt');
    await writeFile(path, '');
    const counts = join(dir, 'empty.tsv');
    const summary = await countJson([path, '--counts', counts]);
    expect(summary).toMatchObject({ totalWords: 0, distinctWords: 0, chunks: 0, top: [] });
    expect(await readFile(counts, 'utf8')).toBe('');
  });

  it('counts a whitespace-only file as zero words', async () => {
    const path = join(dir, 'blank.txt');
    await writeFile(path, ' \n\t\u3000\u00a0\u2028 '.repeat(1000));
    for (const mode of ['words', 'whitespace']) {
      const summary = await countJson([path, '--mode', mode, '--chunk-size', '7']);
      expect(summary.totalWords).toBe(0);
    }
  });

  it('survives random binary, counting what decodes and every invalid sequence', async () => {
    const bytes = new Uint8Array(1 << 20);
    let seed = 42;
    for (let i = 0; i < bytes.length; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      bytes[i] = seed >>> 24;
    }
    const path = join(dir, 'random.bin');
    await writeFile(path, bytes);
    for (const mode of ['whitespace', 'words'] as const) {
      const counts = join(dir, `random.${mode}.tsv`);
      const summary = await countJson([
        path,
        '--mode',
        mode,
        '--chunk-size',
        '64KiB',
        '--counts',
        counts,
      ]);
      const single = countBytes(mode, bytes);
      expect(summary.invalidSequences).toBe(single.invalidSequences);
      expect(summary.invalidSequences).toBeGreaterThan(100_000);
      expect(summary.totalWords).toBe(single.tokens);
      expect(await readFile(counts, 'utf8')).toBe(expectedTsv(mode, bytes));
    }
  });

  it('reads invalid UTF-8 as U+FFFD and reports how many sequences', async () => {
    const path = join(dir, 'invalid.txt');
    await writeFile(
      path,
      Buffer.from([0x61, 0xff, 0x62, 0x20, 0x61, 0xc0, 0x62, 0x20, 0xe2, 0x80]),
    );
    const counts = join(dir, 'invalid.tsv');
    const summary = await countJson([path, '--mode', 'whitespace', '--counts', counts]);
    expect(summary.invalidSequences).toBe(3);
    expect(await readFile(counts, 'utf8')).toBe('a\ufffdb\t2\n\ufffd\t1\n');
  });

  it('counts a single 64 MiB token once, in bounded memory', async () => {
    const path = join(dir, 'one-token.txt');
    const out = createWriteStream(path);
    const block = Buffer.alloc(1 << 20, 'x');
    for (let i = 0; i < 64; i++)
      if (!out.write(block)) await new Promise<void>((r) => out.once('drain', () => r()));
    await new Promise<void>((r) => out.end(() => r()));
    const counts = join(dir, 'one-token.tsv');
    const summary = await countJson([
      path,
      '--mode',
      'whitespace',
      '--workers',
      '2',
      '--counts',
      counts,
    ]);
    expect(summary).toMatchObject({ totalWords: 1, distinctWords: 1, longTokens: 1, chunks: 4 });
    expect(await readFile(counts, 'utf8')).toBe(
      `${'x'.repeat(TOKEN_CAP_BYTES)}${LONG_TOKEN_SUFFIX}\t1\n`,
    );
    expect(summary.stats.bytesScanned).toBeLessThan(2 * 64 * 1024 * 1024);
    // Nothing holds the token: peak memory is within a fraction of the token's 64 MiB
    // of what the same-size file of 33 million tiny tokens needs.
    const many = join(dir, 'many-tokens.txt');
    await writeFile(many, Buffer.alloc(64 * 1024 * 1024, 'x '));
    const baseline = await countJson([many, '--mode', 'whitespace', '--workers', '2']);
    expect(baseline.totalWords).toBe(32 * 1024 * 1024);
    expect(summary.stats.maxRssBytes).toBeLessThan(baseline.stats.maxRssBytes + 48 * 1024 * 1024);
  });
});

describe('wordcount errors', () => {
  it('exits 1 naming a missing path', async () => {
    const run = await runCli(['count', join(dir, 'nope.txt')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`wordcount: ${join(dir, 'nope.txt')}: no such file\n`);
    expect(run.stdout).toBe('');
  });

  it('exits 1 when the path is a directory', async () => {
    await mkdir(join(dir, 'a-dir'), { recursive: true });
    const run = await runCli(['count', join(dir, 'a-dir')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`wordcount: ${join(dir, 'a-dir')}: is a directory, not a file\n`);
  });

  it.each([
    [['count', 'x.txt', '--workers', '0'], /--workers/],
    [['count', 'x.txt', '--workers', 'two'], /--workers/],
    [['count', 'x.txt', '--chunk-size', '0'], /--chunk-size/],
    [['count', 'x.txt', '--chunk-size', '2GiB'], /--chunk-size/],
    [['count', 'x.txt', '--chunk-size', 'lots'], /invalid size 'lots'/],
    [['count', 'x.txt', '--mode', 'nouns'], /--mode.*nouns/],
    [['count', 'x.txt', '--top', '-1'], /--top/],
    [['count', 'x.txt', '--bogus'], /unknown option '--bogus'/],
    [['count'], /missing required argument 'source'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stdout).toBe('');
  });

  it('prints help and exits 0 with --help', async () => {
    const run = await runCli(['count', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--chunk-size <size>/);
  });
});
