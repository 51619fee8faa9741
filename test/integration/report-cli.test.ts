/**
 * `wordcount report` and `count --report` as a user runs them, on what goes wrong: each
 * failure is one line on stderr naming the file (and line), and the exit code says whose.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultReportPath } from '../../lib/report/report-file.js';
import { runCli } from '../support/cli.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wordcount-report-cli-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function expectFailure(args: string[], code: number, message: string | RegExp) {
  const run = await runCli(args);
  expect(run.code).toBe(code);
  expect(run.stdout).toBe('');
  expect(run.stderr).toMatch(message);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
}

describe('wordcount report', () => {
  it('names a counts file that does not exist', async () => {
    const missing = join(dir, 'missing.tsv');
    await expectFailure(
      ['report', missing],
      1,
      `wordcount: ${missing}: no such file or directory\n`,
    );
  });

  it('names the file and line of a malformed or unsorted counts file', async () => {
    const malformed = join(dir, 'malformed.tsv');
    await writeFile(malformed, 'the\t5\nand\t3\nof three\n');
    await expectFailure(
      ['report', malformed],
      1,
      `wordcount: ${malformed}:3: not a line of word<TAB>count with a positive whole count: "of three"\n`,
    );
    const unsorted = join(dir, 'unsorted.tsv');
    await writeFile(unsorted, 'the\t5\nand\t3\nof\t4\n');
    await expectFailure(['report', unsorted], 1, `${unsorted}:3: count 4 after 3`);
    expect(existsSync(defaultReportPath(unsorted))).toBe(false);
  });

  it('names an output directory that does not exist, before reading anything', async () => {
    const counts = join(dir, 'ok.tsv');
    await writeFile(counts, 'the\t5\nand\t3\n');
    const out = join(dir, 'no-such-dir', 'r.html');
    await expectFailure(
      ['report', counts, '--out', out],
      1,
      `wordcount: ${out}: cannot write the report: no such directory ${join(dir, 'no-such-dir')}\n`,
    );
    const source = join(dir, 'book.txt');
    await writeFile(source, 'a b c');
    await expectFailure(['count', source, '--report', out], 1, `${out}: cannot write the report`);
  });

  it('refuses to write the report over a source of the count', async () => {
    const source = join(dir, 'precious.txt');
    await writeFile(source, 'a b c');
    await expectFailure(
      ['count', source, '--report', source],
      2,
      `wordcount: --report ${source}: is also a source of this count; name another file\n`,
    );
    expect(await readFile(source, 'utf8')).toBe('a b c');
  });

  it('checks where --report goes before an s3:// job starts', async () => {
    const target = join(dir, 'missing', 'r.html');
    // No orchestrator is configured: the target is refused before that is found out.
    await expectFailure(
      ['count', 's3://bucket/key', '--report', target],
      1,
      new RegExp(
        `^wordcount: ${target.replace(/[.]/g, '\\.')}: cannot write the report: no such directory`,
      ),
    );
  });

  it('refuses a report over its own counts file, or over a directory', async () => {
    const counts = join(dir, 'self.tsv');
    await writeFile(counts, 'a\t1\n');
    await expectFailure(['report', counts, '--out', counts], 2, /is the counts file itself/);
    await expectFailure(['report', counts, '--out', dir], 1, /is a directory; name a file/);
    await expectFailure(
      ['count', counts, '--counts', join(dir, 'x.tsv'), '--report', join(dir, 'x.tsv')],
      2,
      /--report .*x\.tsv: is the --counts file too/,
    );
    expect(await readFile(counts, 'utf8')).toBe('a\t1\n');
  });

  it('writes beside the counts by default', () => {
    expect(defaultReportPath('out/counts.tsv')).toBe('out/counts.report.html');
    expect(defaultReportPath('counts.txt')).toBe('counts.txt.report.html');
  });
});
