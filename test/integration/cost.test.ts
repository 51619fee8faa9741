/**
 * The cost of a local count: the same structure as on Lambda, with this process's CPU
 * seconds and no dollars; the file operations counted as the S3 requests they stand for.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Summary } from '../../lib/contracts/summary.js';
import { runCli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'wordcount-cost-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function count(...args: string[]): Promise<Summary> {
  const run = await runCli(['count', ...args, '--json']);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as Summary;
}

describe('cost on the embedded backend', () => {
  it('counts the requests of a job small enough to count by hand', async () => {
    const file = join(dir, 'one.txt');
    writeFileSync(file, 'a b c\nb c\nc\n');
    const summary = await count(file, '--counts', join(dir, 'one.tsv'));
    // One HEAD (the file named), one GET (its one task reads it whole), one PUT (the counts).
    expect(summary.cost?.requests.s3).toEqual({
      get: 1,
      head: 1,
      list: 0,
      put: 1,
      copy: 0,
      multipart: 0,
      parts: 0,
      delete: 0,
      other: 0,
    });
    expect(summary.cost?.functions.counter?.invocations).toBe(1);
    expect(summary.cost?.functions.driver?.invocations).toBe(1);
  });

  it('lists a directory once, and needs no HEAD for what it listed', async () => {
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    for (const name of ['a', 'b', 'c']) writeFileSync(join(folder, `${name}.txt`), `${name} x\n`);
    const summary = await count(folder);
    expect(summary.chunks).toBe(1);
    expect(summary.cost?.requests.s3).toMatchObject({ list: 1, head: 0, get: 3, put: 0 });
  });

  it('has one counter invocation per task, CPU seconds, and no dollars', async () => {
    const file = join(dir, 'many.txt');
    writeFileSync(file, 'the quick brown fox jumps over the lazy dog\n'.repeat(5000));
    const summary = await count(file, '--chunk-size', '16KiB', '--workers', '2');
    const cost = summary.cost;
    expect(summary.chunks).toBeGreaterThan(10);
    expect(cost?.backend).toBe('embedded');
    expect(cost?.functions.counter?.invocations).toBe(summary.chunks);
    // Every task reads its range at least once.
    expect(cost?.requests.s3.get).toBeGreaterThanOrEqual(summary.chunks);
    expect(cost?.cpuSeconds).toBeGreaterThan(0);
    expect(cost?.gbSeconds).toBe(0);
    expect(cost?.usd.total).toBe(0);
    expect(cost?.prices).toBeUndefined();
  });

  it('shows the cost in the table', async () => {
    const file = join(dir, 'one.txt');
    const run = await runCli(['count', file]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^cost {4}\$0 here: \d+\.\d\d CPU-s on this machine$/m);
    expect(run.stdout).toMatch(
      /^ {8}tasks {3}counter: 1 invocation\(s\), \d+\.\d\d s, driver: 1 invocation\(s\), \d+\.\d\d s$/m,
    );
    expect(run.stdout).toMatch(/^ {8}files {3}1 GET, 1 HEAD \(as S3 requests\)$/m);
  });
});
