/**
 * Corpora uploaded as they are stored, on the emulator: an upload of a Parquet file
 * starts a job planned from its footer (row groups, not bytes), with the chunk size its
 * metadata asks for; the CLI passes --format and --field to the orchestrator.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SummarySchema } from '../../lib/contracts/summary.js';
import { outputKeys } from '../../lib/keys.js';
import { groupRuns } from '../../lib/plan.js';
import { corpusPy } from '../../scripts/corpus-venv.mjs';
import { runCli } from '../support/cli.js';
import { BUCKET, clients, download, emulatorEnv, ORCHESTRATOR, upload, waitFor } from './aws.js';

const endpoint = inject('endpoint');
const { s3 } = clients(endpoint);
const run = randomUUID().slice(0, 8);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wordcount-e2e-formats-'));
});
afterAll(() => s3.destroy());

/** What the local CLI counts of `args`. */
async function local(args: string[]) {
  const counts = join(dir, `local-${randomUUID().slice(0, 6)}.tsv`);
  const result = await runCli(['count', ...args, '--json', '--counts', counts]);
  expect(result.code).toBe(0);
  return {
    summary: SummarySchema.parse(JSON.parse(result.stdout)),
    tsv: await readFile(counts, 'utf8'),
  };
}

describe('corpora uploaded as they are stored', () => {
  it('plans an uploaded Parquet file by its row groups: 16 row groups over 64 KiB are 16 map tasks', async () => {
    const file = join(dir, 'fineweb.parquet');
    const spans = JSON.parse(
      corpusPy([
        'parquet',
        file,
        '--docs',
        '12000',
        '--row-groups',
        '16',
        '--text',
        'samples/kjv-genesis.txt',
      ]),
    ) as { start: number; end: number }[];
    expect(spans).toHaveLength(16);
    expect(Math.min(...spans.map((s) => s.end - s.start))).toBeGreaterThan(64 * 1024);
    const key = `input/formats ${run}/fineweb.parquet`;
    await upload(s3, key, await readFile(file), BUCKET, { 'wordcount-chunk-size': '64KiB' });
    const summary = SummarySchema.parse(
      JSON.parse(await waitFor(s3, outputKeys({ kind: 'key', key }).summary)),
    );
    expect(summary.stats.mapTasks).toBe(groupRuns(spans, 64 * 1024).length);
    expect(summary.stats.mapTasks).toBeGreaterThanOrEqual(8);
    const expected = await local([file, '--chunk-size', '64KiB']);
    expect(await download(s3, outputKeys({ kind: 'key', key }).counts)).toBe(expected.tsv);
    expect(summary.records).toBe(12000 - (expected.summary.skippedRecords ?? 0));
    expect(summary.records).toBe(expected.summary.records);
  });

  it('passes --format and --field from the CLI to the orchestrator', async () => {
    const lines = [
      { id: 1, meta: { body: 'inner words here' }, text: 'not these' },
      { id: 2, meta: { body: 'inner again' }, text: 'nor these' },
    ];
    const file = join(dir, 'nested.data');
    await writeFile(file, lines.map((l) => JSON.stringify(l)).join('\n'));
    const key = `staging/${run}/nested.data`;
    await upload(s3, key, await readFile(file));
    const counts = join(dir, 'nested-s3.tsv');
    const args = ['--format', 'jsonl', '--field', 'meta.body', '--json'];
    const result = await runCli(
      ['count', `s3://${BUCKET}/${key}`, '--function', ORCHESTRATOR, ...args, '--counts', counts],
      emulatorEnv(endpoint),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = SummarySchema.parse(JSON.parse(result.stdout));
    expect(summary).toMatchObject({
      format: 'jsonl',
      field: 'meta.body',
      records: 2,
      totalWords: 5,
    });
    expect(await readFile(counts, 'utf8')).toBe((await local([file, ...args.slice(0, 4)])).tsv);
  });
});
