/**
 * Every mistake a user can make at the command line ends the same way: exit 2 (usage)
 * or 1 (failure), one line on stderr naming the path, key or option, nothing on stdout.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

let dir: string;
/** `@/x` in a case's arguments is `x` in the test's directory. */
const at = (args: string[]) => args.map((a) => a.replace(/^@\//, `${dir}/`));

/** No AWS at all but a refused port: no network, no credentials or profiles from home. */
function isolatedEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: dir,
    TMPDIR: process.env.TMPDIR,
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

const REFUSED = {
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wordcount-mistakes-'));
  await writeFile(join(dir, 'a.txt'), 'one two two\n');
  await mkdir(join(dir, 'hollow', 'inner'), { recursive: true });
  await mkdir(join(dir, 'books'));
  await writeFile(join(dir, 'books', 'b.txt'), 'three\n');
  await symlink(join(dir, 'a.txt'), join(dir, 'link.txt'));
});

afterAll(() => rm(dir, { recursive: true, force: true }));

type Case = [what: string, args: string[], code: 1 | 2, stderr: RegExp, env?: NodeJS.ProcessEnv];

const cases: Case[] = [
  // Sources.
  ['a missing file', ['count', '@/nope.txt'], 1, /\/nope\.txt: no such file or directory$/],
  ['a directory with no file', ['count', '@/hollow'], 1, /\/hollow: no regular files/],
  ['an empty source', ['count', ''], 2, /'': an empty source/],
  [
    'standard input twice',
    ['count', '-', '-'],
    2,
    /^wordcount: -: standard input can be read once/,
  ],
  // Options.
  ['an unknown --mode', ['count', '@/a.txt', '--mode', 'nope'], 2, /--mode.*'nope'/],
  ['--workers 0', ['count', '@/a.txt', '--workers', '0'], 2, /--workers.*'0'.*1 to 1024/],
  ['--workers x', ['count', '@/a.txt', '--workers', 'x'], 2, /--workers.*'x'/],
  ['--chunk-size 0', ['count', '@/a.txt', '--chunk-size', '0'], 2, /--chunk-size.*'0'/],
  ['--chunk-size 5XB', ['count', '@/a.txt', '--chunk-size', '5XB'], 2, /--chunk-size.*'5XB'/],
  ['--chunk-size 2GiB', ['count', '@/a.txt', '--chunk-size', '2GiB'], 2, /--chunk-size.*1GiB/],
  ['--top -1', ['count', '@/a.txt', '--top', '-1'], 2, /--top.*'-1'/],
  ['--top x', ['count', '@/a.txt', '--top', 'x'], 2, /--top.*'x'/],
  [
    'an option without its value',
    ['count', '@/a.txt', '--mode'],
    2,
    /'--mode <mode>' argument missing/,
  ],
  [
    'an unknown option',
    ['count', '@/a.txt', '--bogus'],
    2,
    /^wordcount: unknown option '--bogus'$/,
  ],
  ['no source', ['count'], 2, /^wordcount: missing required argument 'source'$/],
  ['an unknown command', ['frobnicate'], 2, /^wordcount: unknown command 'frobnicate'$/],
  ['status of a local path', ['status', '@/a.txt'], 2, /\/a\.txt: status is kept for s3:\/\//],
  ['status without a source', ['status'], 2, /missing required argument 'source'/],
  // --counts.
  [
    '--counts into a missing directory',
    ['count', '@/a.txt', '--counts', '@/no/c.tsv'],
    1,
    /--counts .*\/no\/c\.tsv: no such directory/,
  ],
  [
    '--counts naming a directory',
    ['count', '@/a.txt', '--counts', '@/books'],
    1,
    /--counts .*\/books: is a directory/,
  ],
  [
    '--counts under a file',
    ['count', '@/a.txt', '--counts', '@/a.txt/c.tsv'],
    1,
    /--counts .*\/a\.txt\/c\.tsv: no such directory/,
  ],
  ['--counts empty', ['count', '@/a.txt', '--counts', ''], 2, /--counts '': name the file/],
  [
    '--counts equal to the input',
    ['count', '@/a.txt', '--counts', '@/a.txt'],
    2,
    /--counts .*\/a\.txt: is also a source/,
  ],
  [
    '--counts over an input through a link',
    ['count', '@/link.txt', '--counts', '@/a.txt'],
    2,
    /--counts .*\/a\.txt: is also a source/,
  ],
  [
    '--counts over a file of a counted directory',
    ['count', '@/books', '--counts', '@/books/b.txt'],
    2,
    /--counts .*\/b\.txt: is also a source/,
  ],
  // s3:// without AWS.
  ['s3:// alone', ['count', 's3://'], 2, /^wordcount: s3:\/\/: expected s3:\/\/bucket\/key/],
  ['s3:/// without a bucket', ['count', 's3:///key'], 2, /^wordcount: s3:\/\/\/key: expected/],
  [
    's3://bucket without a slash',
    ['count', 's3://bucket', '--function', 'f'],
    2,
    /^wordcount: s3:\/\/bucket: expected .*s3:\/\/bucket\/ \(the whole bucket\)/,
  ],
  [
    'local and s3:// mixed',
    ['count', 's3://bucket/key', '@/a.txt'],
    2,
    /\/a\.txt: local and s3:\/\/ sources do not mix/,
  ],
  [
    '--no-wait on a local count',
    ['count', '@/a.txt', '--no-wait'],
    2,
    /^wordcount: --no-wait applies to s3:\/\//,
  ],
  [
    '--function on a local count',
    ['count', '@/a.txt', '--function', 'f'],
    2,
    /^wordcount: --function applies to s3:\/\//,
  ],
  [
    '--force on a local count',
    ['count', '@/a.txt', '--force'],
    2,
    /^wordcount: --force applies to s3:\/\//,
  ],
  [
    '--workers on s3://',
    ['count', 's3://bucket/key', '--workers', '2', '--function', 'f'],
    2,
    /^wordcount: --workers applies to local sources/,
  ],
  [
    'no orchestrator function',
    ['count', 's3://bucket/key'],
    2,
    /^wordcount: s3:\/\/bucket\/key: name the orchestrator function/,
  ],
  [
    'an endpoint that refuses (count)',
    ['count', 's3://bucket/key', '--function', 'orch'],
    1,
    /^wordcount: orch: .*ECONNREFUSED 127\.0\.0\.1:9/,
    REFUSED,
  ],
  [
    'an endpoint that refuses (status)',
    ['status', 's3://bucket/key'],
    1,
    /^wordcount: s3:\/\/bucket\/.*ECONNREFUSED 127\.0\.0\.1:9/,
    REFUSED,
  ],
  [
    'no credentials',
    ['count', 's3://bucket/key', '--function', 'orch'],
    1,
    /^wordcount: orch: .*credentials/i,
    { ...REFUSED, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' },
  ],
];

describe('wordcount, given a mistake', () => {
  it.concurrent.each(cases)(
    '%s: exits with one line naming it',
    async (_what, args, code, stderr, env) => {
      const run = await runCli(at(args), isolatedEnv(env), '');
      expect({ code: run.code, stdout: run.stdout }).toEqual({ code, stdout: '' });
      expect(run.stderr.endsWith('\n')).toBe(true);
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(run.stderr.trimEnd()).toMatch(stderr);
    },
  );

  it('leaves an input named as --counts untouched', async () => {
    await runCli(at(['count', '@/a.txt', '--counts', '@/a.txt']), isolatedEnv());
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('one two two\n');
  });
});

describe.skipIf(!existsSync('/proc/self/mountinfo'))('wordcount on generated files (Linux)', () => {
  it.concurrent.each([['/'], ['/proc'], ['/proc/self'], ['/sys/kernel']])(
    'refuses to walk %s, naming the pseudo-filesystem',
    async (path) => {
      const run = await runCli(['count', path], isolatedEnv());
      expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: '' });
      expect(run.stderr).toMatch(/^wordcount: \/(proc|sys): a (proc|sysfs) file system .*\n$/);
    },
  );

  it('counts a file whose size says 0 bytes by reading it (/proc/cpuinfo)', async () => {
    const run = await runCli(['count', '/proc/cpuinfo', '--json'], isolatedEnv());
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout).totalWords).toBeGreaterThan(0);
  });
});

describe('wordcount on what it can count', () => {
  it('counts an empty file as 0 words', async () => {
    await writeFile(join(dir, 'empty.txt'), '');
    const run = await runCli(['count', join(dir, 'empty.txt'), '--json'], isolatedEnv());
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toMatchObject({ totalWords: 0, distinctWords: 0 });
  });

  it('follows a link to a directory named on the command line', async () => {
    await symlink(join(dir, 'books'), join(dir, 'shelf'));
    const run = await runCli(['count', join(dir, 'shelf'), '--json'], isolatedEnv());
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout).totalWords).toBe(1);
  });
});
