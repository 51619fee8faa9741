/** Publishing on real files: the counts, the report of them, the summary last. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lib/adapters/file-store.js';
import type { Summary } from '../../lib/contracts/summary.js';
import { publish } from '../../lib/job/ledger/publish.js';
import { aSummary } from '../support/summary.js';

let store: FileObjectStore;
let n = 0;
/** The input every publish here counted, and its version. */
const input = { kind: 'key', key: 'input/x.txt' } as const;
let version: string;

beforeAll(async () => {
  store = new FileObjectStore(await mkdtemp(join(tmpdir(), 'wordcount-publish-')));
  version = (await store.put(input.key, 'the and of')).etag;
});

function summaryFor(totalWords: number): Summary {
  return aSummary({ source: { uri: 's3://b/input/x.txt', bytes: 100, etag: 'v1' }, totalWords });
}

async function publishCounts(counts: string, totalWords: number, log: string[] = []) {
  const base = `output/job-${n++}`;
  const output = {
    summary: `${base}.json`,
    counts: `${base}.counts.tsv`,
    report: `${base}.report.html`,
  };
  await store.put(`jobs/${base}/staged.tsv`, counts);
  const outcome = await publish(store, {
    jobId: `job-${n}`,
    input,
    version,
    stagedCounts: `jobs/${base}/staged.tsv`,
    output,
    summary: summaryFor(totalWords),
    owner: 'test',
    log: (line) => log.push(line),
  });
  return { outcome, output, log };
}

describe('publish', () => {
  it('writes the report of the counts beside them, before the summary', async () => {
    const { outcome, output } = await publishCounts('the\t3\nand\t2\nof\t1\n', 6);
    expect(outcome).toBe('published');
    const html = new TextDecoder().decode(await store.get(output.report));
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('"the"');
    await expect(store.head(output.summary)).resolves.toBeDefined();
  });

  it('publishes the counts and summary without a report when the report cannot be made, and says why', async () => {
    // Counts out of order: the report refuses them, the job does not fail for it.
    const first = await publishCounts('the\t3\nand\t2\nof\t1\n', 6);
    const staged = `jobs/${first.output.summary}-again.tsv`;
    await store.put(staged, 'of\t1\nthe\t3\n');
    const log: string[] = [];
    const outcome = await publish(store, {
      jobId: 'job-again',
      input,
      version,
      stagedCounts: staged,
      output: first.output,
      summary: summaryFor(4),
      owner: 'test',
      log: (line) => log.push(line),
    });
    expect(outcome).toBe('published');
    expect(new TextDecoder().decode(await store.get(first.output.counts))).toBe('of\t1\nthe\t3\n');
    // The earlier job's report is gone: none contradicts the new summary.
    await expect(store.head(first.output.report)).rejects.toThrow(/no such file/);
    expect(
      JSON.parse(new TextDecoder().decode(await store.get(first.output.summary))),
    ).toMatchObject({ totalWords: 4 });
    expect(log).toEqual([
      expect.stringMatching(/^job job-again: no report: .*counts.tsv:2: .*not sorted by count/),
    ]);
  });
});
