import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { SummarySchema } from '../../lib/contracts/summary.js';
import { LONG_TOKEN_SUFFIX, TOKEN_CAP_BYTES } from '../../lib/kernel/long-tokens.js';
import { countBytes } from '../../lib/kernel/range-counter.js';
import { cliPath, runCli } from '../support/cli.js';
import { countsTsvOf, expectedTsv, singlePassCounts } from '../support/oracle.js';

let dir: string;
const golden = (name: string) => new URL(`../golden/${name}`, import.meta.url).pathname;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wordcount-cli-'));
});

async function countJson(args: string[], stdin?: Uint8Array | string) {
  const run = await runCli(['count', ...args, '--json'], process.env, stdin);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return SummarySchema.parse(JSON.parse(run.stdout));
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
    // The default, auto: Chinese by jieba, Japanese and Thai by ICU.
    expect(summary.segmenter).toBe('auto');
    expect(Object.keys(summary.segmenters ?? {})).toEqual(['jieba', 'icu']);
    expect(summary.segmenters?.jieba).toMatch(/@node-rs\/jieba 2\.0\.3\), default dictionary$/);
  });

  it('segments Chinese with the segmenter --segmenter names', async () => {
    const path = join(dir, 'zh.txt');
    await writeFile(path, '我们今天去北京大学看看\n');
    const words = async (segmenter: string) => {
      const summary = await countJson([path, '--segmenter', segmenter]);
      expect(summary.segmenter).toBe(segmenter);
      return summary.top.map((t) => t.word).sort();
    };
    expect(await words('jieba')).toEqual(['今天', '北京大学', '去', '我们', '看看']);
    expect((await words('auto')).join()).toBe(await words('jieba').then((w) => w.join()));
    expect(await words('icu')).not.toEqual(await words('jieba'));
  });

  it('refuses --segmenter in whitespace mode with a usage error', async () => {
    const path = join(dir, 'ws.txt');
    await writeFile(path, 'a b\n');
    const run = await runCli(['count', path, '--mode', 'whitespace', '--segmenter', 'jieba']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--segmenter jieba: only words mode segments text/);
    const bad = await runCli(['count', path, '--segmenter', 'mecab']);
    expect(bad.code).toBe(2);
  });

  it('counts an empty file as zero words in zero chunks', async () => {
    const path = join(dir, 'empty.txt');
    await writeFile(path, '');
    const counts = join(dir, 'empty.tsv');
    const summary = await countJson([path, '--counts', counts]);
    expect(summary).toMatchObject({
      totalWords: 0,
      distinctWords: 0,
      chunks: 0,
      top: [],
      sources: { objects: 1, bytes: 0 },
    });
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

describe('wordcount count over many sources', () => {
  const texts = {
    'a.txt': 'One two three. One two.',
    'nested/b.txt': 'three four\nfive',
    'nested/deeper/c.md': 'Six six SIX',
    'nested/empty.txt': '',
  };
  const sum = (bodies: string[]) => {
    const total = new Map<string, number>();
    for (const body of bodies)
      for (const [w, c] of singlePassCounts('words', new TextEncoder().encode(body)))
        total.set(w, (total.get(w) ?? 0) + c);
    return countsTsvOf(total);
  };

  it('counts a directory tree, gzip however named, and standard input as one job', async () => {
    const root = join(dir, 'corpus');
    for (const [name, body] of Object.entries(texts)) {
      await mkdir(join(root, name, '..'), { recursive: true });
      await writeFile(join(root, name), body);
    }
    await writeFile(join(root, 'zipped.gz'), gzipSync('seven eight'));
    await writeFile(join(root, 'nested', 'misleading.txt'), gzipSync('nine ten'));
    await writeFile(join(root, 'plain-text.gz'), 'eleven');
    await writeFile(
      join(root, 'nested', 'members.gz'),
      Buffer.concat([gzipSync('twel'), gzipSync('ve thirteen')]),
    );
    await symlink(join(dir, 'elsewhere.txt'), join(root, 'link.txt'));
    await writeFile(join(dir, 'elsewhere.txt'), 'never counted through the link');
    const counts = join(dir, 'corpus.tsv');
    const summary = await countJson(
      [root, '-', '--counts', counts, '--chunk-size', '8', '--workers', '2'],
      gzipSync('from standard input'),
    );
    const bodies = [
      ...Object.values(texts),
      'seven eight',
      'nine ten',
      'eleven',
      'twelve thirteen',
      'from standard input',
    ];
    expect(await readFile(counts, 'utf8')).toBe(sum(bodies));
    expect(summary.sources.objects).toBe(9);
    expect(summary.source.uri).toBe(`${root} -`);
    expect(summary.stats.uncompressedBytes).toBe(bodies.join('').length);
  });

  it('counts each file once however many arguments name it', async () => {
    const root = join(dir, 'twice');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'x.txt'), 'same words');
    const summary = await countJson([root, join(root, 'x.txt'), root]);
    expect(summary).toMatchObject({ totalWords: 2, sources: { objects: 1 } });
  });
});

describe('wordcount count interrupted', () => {
  it('removes its temporary partials on SIGINT and dies of the signal', async () => {
    const words = Array.from({ length: 300_000 }, (_, i) => `i${i.toString(36)}`).join(' ');
    const path = join(dir, 'interrupted.txt');
    await writeFile(path, `${words}\n`.repeat(20));
    const scratch = await mkdtemp(join(dir, 'tmp-'));
    const child = spawn(
      process.execPath,
      [cliPath, 'count', path, '--workers', '2', '--chunk-size', '1MiB'],
      {
        env: { ...process.env, TMPDIR: scratch },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    // What the command said, should it end otherwise than by the signal.
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    // Wait until the job has written partials under its temporary directory.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const dirs = await readdir(scratch);
      const spilled =
        dirs.length > 0 && (await readdir(join(scratch, dirs[0] as string))).includes('map');
      if (spilled) break;
      if (Date.now() > deadline) throw new Error('no partials appeared');
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGINT');
    const [code, signal] = await new Promise<[number | null, string | null]>((r) =>
      child.on('exit', (c, s) => r([c, s])),
    );
    expect(signal ?? code, `exit ${code}, stderr: ${stderr}`).toBe('SIGINT');
    expect(await readdir(scratch)).toEqual([]);
  });
});

describe('wordcount errors', () => {
  it('exits 1 naming a missing path', async () => {
    const run = await runCli(['count', join(dir, 'nope.txt')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`wordcount: ${join(dir, 'nope.txt')}: no such file or directory\n`);
    expect(run.stdout).toBe('');
  });

  it('exits 1 naming a directory with no regular file under it', async () => {
    await mkdir(join(dir, 'hollow', 'inner'), { recursive: true });
    const run = await runCli(['count', join(dir, 'hollow')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `wordcount: ${join(dir, 'hollow')}: no regular files in this directory\n`,
    );
  });

  it('exits 2 when local and s3:// sources are mixed, before anything is read', async () => {
    const run = await runCli(['count', join(dir, 'nope.txt'), 's3://bucket/key']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `wordcount: ${join(dir, 'nope.txt')}: local and s3:// sources do not mix in one job\n`,
    );
  });

  it('exits 2 for s3:// sources one job cannot hold', async () => {
    const buckets = await runCli(['count', 's3://one/a.txt', 's3://two/b.txt', '--function', 'f']);
    expect(buckets.code).toBe(2);
    expect(buckets.stderr).toMatch(/^wordcount: s3:\/\/two\/: a job counts one bucket/);
    const prefixes = await runCli(['count', 's3://one/a/', 's3://one/b.txt', '--function', 'f']);
    expect(prefixes.code).toBe(2);
    expect(prefixes.stderr).toMatch(
      /^wordcount: s3:\/\/one\/a\/: a prefix must be the only source/,
    );
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
