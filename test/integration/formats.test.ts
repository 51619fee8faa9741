/**
 * Corpora as they are stored, counted by the CLI on the embedded backend (real worker
 * threads), against an oracle that extracts each record's text with Python's own json,
 * pyarrow and warcio: JSON Lines (gzip, multi-member gzip, multi-frame zstd, plain with
 * blank, invalid and long lines), Parquet (snappy with dictionary pages, zstd with plain
 * pages, nulls, many row groups) and WET (one gzip member per record).
 */
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SummarySchema } from '../../lib/contracts/summary.js';
import { CorruptInputError } from '../../lib/errors.js';
import { decompress } from '../../lib/records/codecs.js';
import type { Mode } from '../../lib/tokenize.js';
import { corpusPy } from '../../scripts/corpus-venv.mjs';
import { runCli } from '../support/cli.js';
import { type Corpus, type Oracle, writeCorpus } from '../support/corpus.js';

let root: string;
let corpus: Corpus;
let oracle: Oracle;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'wordcount-formats-'));
  corpus = await writeCorpus(join(root, 'corpus'), { docs: 300 });
  oracle = await corpus.oracle();
}, 120_000);
afterAll(() => rm(root, { recursive: true, force: true }));

async function count(args: string[]) {
  const tsv = join(root, `counts-${Math.random().toString(36).slice(2)}.tsv`);
  const run = await runCli(['count', ...args, '--json', '--counts', tsv]);
  expect(run.stderr.replace(/^wordcount: \d+ invalid record.*\n/m, '')).toBe('');
  expect(run.code).toBe(0);
  return {
    summary: SummarySchema.parse(JSON.parse(run.stdout)),
    tsv: await readFile(tsv, 'utf8'),
    stderr: run.stderr,
  };
}

describe('corpora in their stored formats', () => {
  it('holds every format the issue names, written by the real writers', () => {
    expect(corpus.names).toEqual([
      '00.jsonl.zst',
      'CC-MAIN-00000.warc.wet.gz',
      'c4-train.00000-of-00002.json.gz',
      'dolma-0001.json.gz',
      'fineweb-000.parquet',
      'fineweb-001.parquet',
      'notes.warc',
      'redpajama.jsonl',
    ]);
    expect(oracle.records).toBeGreaterThan(1500);
    expect(oracle.skipped).toBeGreaterThan(10);
    expect(oracle.invalid).toBeGreaterThan(10);
  });

  for (const mode of ['whitespace', 'words'] as Mode[]) {
    for (const [chunk, workers] of [
      ['64KiB', '1'],
      ['64KiB', '2'],
      [undefined, '2'],
    ] as const) {
      it(`counts them in one job as the oracle does (${mode}, chunk ${chunk ?? 'auto'}, ${workers} worker(s))`, async () => {
        const { summary, tsv, stderr } = await count([
          corpus.dir,
          '--mode',
          mode,
          '--workers',
          workers,
          ...(chunk ? ['--chunk-size', chunk] : []),
        ]);
        expect(tsv).toBe(corpus.expectedTsv(oracle, mode));
        if (mode === 'whitespace') {
          const counts = Object.fromEntries(
            tsv
              .split('\n')
              .filter(Boolean)
              .map((l) => [
                l.slice(0, l.lastIndexOf('\t')),
                Number(l.slice(l.lastIndexOf('\t') + 1)),
              ]),
          );
          expect(counts).toEqual(oracle.whitespace);
        }
        expect(summary).toMatchObject({
          records: oracle.records,
          skippedRecords: oracle.skipped,
          invalidRecords: oracle.invalid,
        });
        // The first invalid record, numbered in its object across ranges.
        expect(summary.firstInvalidRecord).toMatchObject({
          uri: oracle.firstInvalid?.file,
          line: oracle.firstInvalid?.line,
        });
        expect(stderr).toContain(
          `${oracle.invalid} invalid record(s) not counted; the first: ${oracle.firstInvalid?.file} line ${oracle.firstInvalid?.line}`,
        );
        if (chunk) expect(summary.chunks).toBeGreaterThan(corpus.names.length);
      });
    }
  }

  it('numbers an invalid line across ranges of a plain JSON Lines file', async () => {
    const only = ['redpajama.jsonl'];
    const expected = await corpus.oracle({ names: only });
    for (const chunk of ['64KiB', '1MiB']) {
      const { summary } = await count([join(corpus.dir, 'redpajama.jsonl'), '--chunk-size', chunk]);
      expect(summary.firstInvalidRecord).toMatchObject({ line: expected.firstInvalid?.line });
      expect(summary.invalidRecords).toBe(expected.invalid);
    }
  });

  it('counts the field a dotted path names', async () => {
    const nested = await writeCorpus(join(root, 'nested'), {
      docs: 100,
      seed: 7,
      field: 'meta.body',
    });
    const jsonl = nested.names.filter((n) => /\.(jsonl|json\.gz|jsonl\.zst)$/.test(n));
    const expected = await nested.oracle({ names: jsonl, field: 'meta.body' });
    const { summary, tsv } = await count([
      ...jsonl.map((n) => join(nested.dir, n)),
      '--field',
      'meta.body',
      '--chunk-size',
      '64KiB',
    ]);
    expect(tsv).toBe(nested.expectedTsv(expected, 'words'));
    expect(summary.records).toBe(expected.records);
    expect(summary.field).toBe('meta.body');
  });

  it('fails on an invalid record with --strict, naming it (by line in one task, by byte in a range)', async () => {
    const file = join(corpus.dir, 'redpajama.jsonl');
    const expected = await corpus.oracle({ names: ['redpajama.jsonl'] });
    const whole = await runCli([
      'count',
      file,
      '--strict',
      '--workers',
      '1',
      '--chunk-size',
      '16MiB',
    ]);
    expect(whole.code).toBe(1);
    expect(whole.stderr).toContain(
      `InvalidRecordError: ${file}: line ${expected.firstInvalid?.line}: `,
    );
    const ranges = await runCli(['count', file, '--strict', '--chunk-size', '64KiB']);
    expect(ranges.code).toBe(1);
    expect(ranges.stderr).toMatch(
      /InvalidRecordError: .*redpajama\.jsonl: (line \d+|the line at byte \d+): /,
    );
  });

  it('counts the raw bytes with --format text, and refuses a file that is not what --format says', async () => {
    const file = join(corpus.dir, 'redpajama.jsonl');
    const raw = await count([file, '--format', 'text', '--mode', 'whitespace']);
    expect(raw.summary.records).toBeUndefined();
    expect(raw.tsv).toMatch(/^\{"text":/m);
    const run = await runCli([
      'count',
      join(corpus.dir, 'dolma-0001.json.gz'),
      '--format',
      'parquet',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/dolma-0001\.json\.gz: a gzip stream, not a Parquet file/);
  });

  it('fails a corrupt Parquet file, naming it: a damaged footer, a damaged page', async () => {
    const good = await readFile(join(corpus.dir, 'fineweb-000.parquet'));
    const footer = Buffer.from(good);
    footer.fill(0xff, footer.length - 300, footer.length - 8);
    const page = Buffer.from(good);
    page.fill(0x7f, 4, 2000);
    const truncated = join(root, 'truncated.parquet');
    await writeFile(truncated, good);
    await truncate(truncated, good.length - 100);
    for (const [name, bytes] of [
      ['footer.parquet', footer],
      ['page.parquet', page],
    ] as const) {
      await writeFile(join(root, name), bytes);
    }
    for (const name of ['footer.parquet', 'page.parquet', 'truncated.parquet']) {
      for (const chunk of ['64KiB', '16MiB']) {
        const run = await runCli([
          'count',
          join(root, name),
          '--format',
          'parquet',
          '--chunk-size',
          chunk,
        ]);
        expect(run.code, `${name} ${chunk}`).toBe(1);
        expect(run.stderr).toContain(`${join(root, name)}: not a valid Parquet file`);
      }
    }
  });

  it('reads Parquet pages of every codec pyarrow writes, dictionary and plain', async () => {
    for (const [compression, dictionary] of [
      ['none', 'true'],
      ['gzip', 'false'],
      ['brotli', 'true'],
      ['lz4', 'false'],
      ['zstd', 'true'],
    ]) {
      const file = join(root, `codec-${compression}.parquet`);
      corpusPy([
        'parquet',
        file,
        '--docs',
        '600',
        '--row-groups',
        '3',
        '--compression',
        compression as string,
        '--dictionary',
        dictionary as string,
        '--text',
        'samples/kjv-genesis.txt',
      ]);
      const expected = await corpus.oracle({ names: [`../codec-${compression}.parquet`] });
      const { summary, tsv } = await count([file, '--chunk-size', '64KiB']);
      expect(tsv, compression).toBe(corpus.expectedTsv(expected, 'words'));
      expect(summary.records).toBe(600);
    }
  });

  it('refuses a Parquet column that is not one string per row, and counts a JSON-typed one as text', async () => {
    const dir = join(root, 'special');
    await mkdir(dir, { recursive: true });
    corpusPy(['special', dir]);
    const list = await runCli(['count', join(dir, 'list.parquet'), '--field', 'tags.list.element']);
    expect(list.code).toBe(1);
    expect(list.stderr).toContain(
      `column 'tags.list.element' is a list (repeated), not one string per row`,
    );
    const beside = await count([join(dir, 'list.parquet'), '--mode', 'whitespace']);
    expect(beside.tsv).toBe('alpha\t1\nbeta\t1\ngamma\t1\n');
    expect(beside.summary).toMatchObject({ records: 2, skippedRecords: 1 });
    const json = await count([join(dir, 'json.parquet'), '--mode', 'whitespace']);
    expect(json.tsv).toBe(
      ['"hello', '"w":', '1,', '[2]}', 'world"}', '{"a":', '{"b":']
        .map((w) => `${w}\t1\n`)
        .join(''),
    );
  });

  it('never counts a zstd stream with a flipped bit: its frame fails to decode, its size or its checksum', async () => {
    const good = await readFile(join(corpus.dir, '00.jsonl.zst'));
    const read = async (bytes: Uint8Array) => {
      const out: Uint8Array[] = [];
      async function* pieces() {
        for (let i = 0; i < bytes.length; i += 4096) yield bytes.subarray(i, i + 4096);
      }
      for await (const p of decompress('zstd', pieces(), 'mem://00.jsonl.zst')) out.push(p);
      return Buffer.concat(out);
    };
    const plain = await read(good);
    let failed = 0;
    for (let at = 0; at < good.length; at += 11) {
      const bad = Buffer.from(good);
      bad[at] = (bad[at] as number) ^ (1 << (at % 8));
      try {
        // A flip the format does not notice must change nothing (none is expected).
        expect((await read(bad)).equals(plain), `a flip at byte ${at}`).toBe(true);
      } catch (error) {
        if (!(error instanceof CorruptInputError)) throw error;
        expect(error.message).toMatch(/^mem:\/\/00\.jsonl\.zst: not a valid zstd stream: /);
        failed++;
      }
    }
    expect(failed).toBeGreaterThan(good.length / 11 - 5);
  });

  it('fails a corrupt zstd stream naming it', async () => {
    const good = await readFile(join(corpus.dir, '00.jsonl.zst'));
    const bad = Buffer.from(good);
    bad.fill(0x00, 100, 400);
    await writeFile(join(root, 'bad.jsonl.zst'), bad);
    const run = await runCli(['count', join(root, 'bad.jsonl.zst')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${join(root, 'bad.jsonl.zst')}: not a valid zstd stream`);
  });

  it('counts a 50 MB JSON line exactly at a 64 KiB chunk size', async () => {
    const word = 'longrecord ';
    const n = Math.ceil((50 << 20) / word.length);
    const text = `${word.repeat(n)}end`;
    const file = join(root, 'long.jsonl');
    await writeFile(
      file,
      `{"text":"first"}\n${JSON.stringify({ text: text, id: 1 })}\n{"text":"last"}\n`,
    );
    const { summary, tsv } = await count([file, '--chunk-size', '64KiB', '--workers', '2']);
    expect(tsv).toBe(`longrecord\t${n}\nend\t1\nfirst\t1\nlast\t1\n`);
    expect(summary.records).toBe(3);
    expect(summary.chunks).toBeGreaterThan(700);
  });
});
