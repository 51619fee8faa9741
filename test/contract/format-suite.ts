/**
 * Corpora in their stored formats as jobs, on every driver and backend (the job suite's
 * worlds): a prefix mixing JSON Lines (gzip, zstd, plain), Parquet and WET in one job;
 * a manifest's options and an object's metadata options; a corrupt Parquet file; a strict
 * job. Each against the oracle of Python's own readers (test/support/corpus.ts).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputKeys } from '../../lib/keys.js';
import type { Corpus, Oracle } from '../support/corpus.js';
import type { JobWorld } from './job-suite.js';

export interface Corpora {
  corpus: Corpus;
  oracle: Oracle;
  /** JSON Lines whose text is at meta.body, and its oracle (that field). */
  nested: Corpus;
  nestedNames: string[];
  nestedOracle: Oracle;
}

/** The counts file's lines as a map (whitespace counts compare with Python's Counter). */
const countsOf = (tsv: string) =>
  Object.fromEntries(
    tsv
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.lastIndexOf('\t')), Number(l.slice(l.lastIndexOf('\t') + 1))]),
  );

export function formatSuite(name: string, world: () => JobWorld, corpora: () => Corpora): void {
  describe(`format suite: ${name}`, () => {
    const key = (rel: string) => `${world().prefix}${rel}`;
    const putAll = async (dir: string, names: readonly string[], under: string) => {
      for (const n of names) await world().put(key(`${under}${n}`), await readFile(join(dir, n)));
    };

    it('counts a prefix of JSON Lines (gzip, zstd, plain), Parquet and WET as the oracle does', async () => {
      const { corpus, oracle } = corpora();
      await putAll(corpus.dir, corpus.names, 'corpora/');
      const ended = await world().count({
        input: { kind: 'prefix', prefix: key('corpora/') },
        chunkSize: '64KiB',
      });
      expect(ended.error).toBeUndefined();
      expect(ended.status?.state).toBe('succeeded');
      expect(ended.tsv).toBe(corpus.expectedTsv(oracle, 'words'));
      expect(ended.summary).toMatchObject({
        records: oracle.records,
        skippedRecords: oracle.skipped,
        invalidRecords: oracle.invalid,
        firstInvalidRecord: { line: oracle.firstInvalid?.line },
      });
      expect(ended.summary?.firstInvalidRecord?.uri).toMatch(/00\.jsonl\.zst$/);
      // Ranges of the plain JSONL, row groups of the Parquet files, one task per compressed one.
      expect(ended.summary?.stats.mapTasks).toBeGreaterThan(corpus.names.length);
    }, 240_000);

    it("takes a manifest's options: mode, field, top", async () => {
      const { nested, nestedNames, nestedOracle } = corpora();
      await putAll(nested.dir, nestedNames, 'nested/');
      const manifest = `input/${world().prefix}nested.manifest.json`;
      await world().put(
        manifest,
        JSON.stringify({ prefix: key('nested/'), mode: 'whitespace', field: 'meta.body', top: 25 }),
      );
      const ended = await world().count({ input: { kind: 'key', key: manifest } });
      expect(ended.status?.state).toBe('succeeded');
      expect(countsOf(ended.tsv ?? '')).toEqual(nestedOracle.whitespace);
      expect(ended.summary).toMatchObject({
        mode: 'whitespace',
        field: 'meta.body',
        records: nestedOracle.records,
      });
      expect(ended.summary?.top).toHaveLength(25);
    }, 240_000);

    it("takes an object's metadata options, and refuses a bad one naming it", async () => {
      const { nested, nestedNames, nestedOracle } = corpora();
      const [first] = nestedNames;
      const single = await nested.oracle({ names: [first as string], field: 'meta.body' });
      const body = await readFile(join(nested.dir, first as string));
      const input = { kind: 'key', key: key(`meta/${first}`) } as const;
      await world().put(input.key, body, {
        'wordcount-field': 'meta.body',
        'wordcount-mode': 'whitespace',
      });
      const ended = await world().count({ input });
      expect(ended.status?.state).toBe('succeeded');
      expect(countsOf(ended.tsv ?? '')).toEqual(single.whitespace);
      expect(nestedOracle.records).toBeGreaterThan(single.records);
      const bad = { kind: 'key', key: key('meta/bad.jsonl') } as const;
      await world().put(bad.key, body, { 'wordcount-format': 'xml' });
      const refused = await world().count({ input: bad });
      expect(refused.error).toMatch(/bad\.jsonl: its metadata x-amz-meta-wordcount-format: 'xml'/);
      expect(await world().jobRecords(outputKeys(bad).summary)).toEqual([]);
    }, 240_000);

    it('fails a job over a corrupt Parquet file, naming it, whether it is planned or read', async () => {
      const { corpus } = corpora();
      const good = await readFile(join(corpus.dir, 'fineweb-000.parquet'));
      const broken = Buffer.from(good);
      broken.fill(0xff, broken.length - 300, broken.length - 8);
      // Over the chunk size its footer is read when the job is planned; under it, by its task.
      for (const [rel, chunkSize] of [
        ['bad/planned.parquet', '64KiB'],
        ['bad/read.parquet', '1MiB'],
      ] as const) {
        await world().put(key(rel), broken);
        const ended = await world().count({ input: { kind: 'key', key: key(rel) }, chunkSize });
        expect(ended.summary).toBeUndefined();
        expect(ended.status?.reason ?? ended.error).toMatch(
          new RegExp(`${rel.replace('.', '\\.')}: not a valid Parquet file`),
        );
      }
    }, 240_000);

    it('fails a strict job on an invalid record, naming it', async () => {
      const { corpus } = corpora();
      const rel = 'strict/redpajama.jsonl';
      await world().put(key(rel), await readFile(join(corpus.dir, 'redpajama.jsonl')));
      const ended = await world().count({
        input: { kind: 'key', key: key(rel) },
        strict: true,
      });
      expect(ended.status?.state).toBe('failed');
      expect(ended.status?.reason).toMatch(
        /InvalidRecordError: .*redpajama\.jsonl: (line \d+|the line at byte \d+): /,
      );
      expect(ended.summary).toBeUndefined();
    }, 240_000);
  });
}
