/** `wordcount plan`: the built command over sparse files, which it must plan without reading. */
import { mkdir, mkdtemp, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PlanSummarySchema } from '../../lib/contracts/plan.js';
import { KiB, MiB } from '../../lib/sizes.js';
import { runCli } from '../support/cli.js';

let dir: string;

async function sparse(path: string, size: number): Promise<string> {
  await writeFile(path, '');
  await truncate(path, size);
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wordcount-plan-'));
});

async function planJson(args: string[]) {
  const run = await runCli(['plan', ...args, '--json']);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return PlanSummarySchema.parse(JSON.parse(run.stdout));
}

describe('wordcount plan', () => {
  it('prints exactly one JSON plan of 10 GB of text, reading none of it', async () => {
    const file = await sparse(join(dir, 'books.txt'), 10e9);
    const plan = await planJson([file]);
    expect(plan.source).toEqual({ uri: file, objects: 1, bytes: 10e9 });
    expect(plan.chunkSize).toBe(16 * MiB);
    expect(plan.tasks.map).toBe(Math.ceil(10e9 / (16 * MiB)));
    expect(plan.partitions).toBe(1024);
    expect(plan.width.counters).toBe(1000);
    expect(plan.estimate.coordinations.queue?.cost.usd.total).toBeGreaterThan(0);
    expect(plan.estimate.coordinations.rpc?.seconds).toBeGreaterThan(0);
  });

  it('plans a directory of crawl files whole, at the width asked, in a readable table', async () => {
    const crawl = join(dir, 'crawl');
    await mkdir(crawl);
    for (let i = 0; i < 40; i++) await sparse(join(crawl, `${i}.warc.wet.gz`), 20 * MiB);
    const json = await planJson([crawl, '--width', '64']);
    expect(json.splits.whole).toEqual({ objects: 40, bytes: 40 * 20 * MiB, tasks: 40 });
    expect(json.width).toEqual({ counters: 64, reason: 'asked for (--width)' });
    const run = await runCli(['plan', crawl, '--mode', 'whitespace']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(
      /^plan {6}.*40 objects, 800MiB .* whitespace mode; nothing was read$/m,
    );
    expect(run.stdout).toMatch(/^tasks {5}40 map \+ \d+ reduce \+ \d+ finalize = \d+/m);
    expect(run.stdout).toMatch(/^ {12}queue +rpc$/m);
    expect(run.stdout).toMatch(/^cost {8}\$\S+ +\$\S+$/m);
    expect(run.stdout).toMatch(/^assumptions$/m);
    expect(run.stdout).toContain('Configuring scaling behavior for SQS event source mappings');
  });

  it('plans a text file as one whole task under --doc-freq (a document is read whole)', async () => {
    const books = join(dir, 'doc-freq');
    await mkdir(books);
    const big = await sparse(join(books, 'big.txt'), 100 * MiB);
    await sparse(join(books, 'records.jsonl'), 100 * MiB);
    const ranges = await planJson([books]);
    expect(ranges.splits.ranges?.tasks).toBe(2 * Math.ceil((100 * MiB) / ranges.chunkSize));
    const whole = await planJson([books, '--doc-freq']);
    // The text file is one task; the JSON Lines file is still cut (a record is a document).
    expect(whole.splits.whole).toEqual({ objects: 1, bytes: 100 * MiB, tasks: 1 });
    expect(whole.splits.ranges?.tasks).toBe(Math.ceil((100 * MiB) / whole.chunkSize));
    expect(whole.tasks.map).toBe(1 + Math.ceil((100 * MiB) / whole.chunkSize));
    expect((await planJson([big, '--doc-freq'])).tasks.map).toBe(1);
  });

  it('grows the chunk size as the orchestrator would, or takes the one asked', async () => {
    const file = await sparse(join(dir, 'tera.jsonl'), 1e12);
    const grown = await planJson([file]);
    expect(grown.chunkSize).toBe(64 * MiB);
    expect(grown.tasks.map).toBe(Math.ceil(1e12 / (64 * MiB)));
    const asked = await planJson([file, '--chunk-size', '1GiB']);
    expect(asked.chunkSize).toBe(1024 * MiB);
    expect(asked.chunkSizeReason).toBe('asked for: 1GiB');
  });

  it('refuses what admission refuses, in one line, exit 2', async () => {
    const file = await sparse(join(dir, 'many.txt'), 100_001 * 64 * KiB);
    const over = await runCli(['plan', file, '--chunk-size', '64KiB']);
    expect(over.code).toBe(2);
    expect(over.stderr).toMatch(
      /^wordcount: .*100001 tasks of 64KiB is over the limit of 100000 per job.*\n$/,
    );
    const small = await runCli(['plan', file, '--chunk-size', '1KiB']);
    expect(small.code).toBe(2);
    expect(small.stderr).toMatch(/below the minimum of 64KiB/);
  });

  it('says what it cannot plan: standard input, mixed or misapplied sources, a missing file', async () => {
    const file = await sparse(join(dir, 'one.txt'), 1000);
    const cases: [string[], number, RegExp][] = [
      [['-'], 2, /standard input has no size until it is read/],
      [[file, 's3://bucket/key'], 2, /local and s3:\/\/ sources do not mix/],
      [[file, '--function', 'orchestrator'], 2, /--function applies to s3:\/\/ sources/],
      [[file, '--width', '0'], 2, /--width must be a whole number/],
      [[join(dir, 'nothing.txt')], 1, /nothing\.txt: no such file or directory/],
    ];
    for (const [args, code, message] of cases) {
      const run = await runCli(['plan', ...args]);
      expect(run.code, args.join(' ')).toBe(code);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(message);
      expect(run.stderr.split('\n')).toHaveLength(2);
    }
  });
});
