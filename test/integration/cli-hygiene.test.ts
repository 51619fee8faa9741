/** The CLI as a user tries it: pipes that close early, huge --top, --version, the demo. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliPath, runCli } from '../support/cli.js';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

let vocabulary: string;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wordcount-hygiene-'));
  vocabulary = join(dir, 'vocabulary.txt');
  // 250,000 distinct words, the first ones more often, so the order is not trivial.
  const words = Array.from({ length: 250_000 }, (_, i) => `w${i.toString(36)}`);
  await writeFile(vocabulary, `${words.join(' ')}\n${words.slice(0, 1000).join(' ')}\n`);
});

describe('wordcount, as a user tries it', () => {
  it('ends quietly when its reader closes the pipe early (| head -1)', async () => {
    const child = spawn(process.execPath, [cliPath, 'count', vocabulary, '--top', '200000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    // Read the first piece, then hang up, as `head -1` does.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('shows any --top, 200,000 words included, as JSON and as a table', async () => {
    const json = await runCli(['count', vocabulary, '--top', '200000', '--json']);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const summary = JSON.parse(json.stdout);
    expect(summary.top).toHaveLength(200_000);
    expect(summary.top[0]).toEqual({ word: 'w0', count: 2 });
    const table = await runCli(['count', vocabulary, '--top', '200000']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n').filter((line) => /^ *\d+ {2}w/.test(line))).toHaveLength(
      200_000,
    );
  });

  it('prints its version', async () => {
    const run = await runCli(['--version']);
    expect(run).toMatchObject({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('demonstrates the fan-out in `npm run demo`: several ranges on several counters', async () => {
    const [command, ...args] = (pkg.scripts.demo as string).split(' ');
    expect(command).toBe('node');
    const run = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
      });
      child.on('close', (code) => resolve({ code, stdout }));
    });
    expect(run.code).toBe(0);
    const [, tasks, workers] = /(\d+) map task\(s\) of up to \S+, up to (\d+) at once/.exec(
      run.stdout,
    ) ?? [0, 0, 0];
    expect(Number(tasks)).toBeGreaterThan(4);
    expect(Number(workers)).toBeGreaterThan(1);
  });
});
