import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { type Summary, SummarySchema } from '../../lib/contracts/summary.js';

/** The built command, as users run it. */
export const cliPath = fileURLToPath(new URL('../../dist/lib/cli/main.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `wordcount` command as a user would, as a separate process. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  stdin?: Uint8Array | string,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      env,
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

/**
 * `wordcount count … --json --counts FILE`, the counts file written under `dir()`: the
 * summary and the counts. Fails unless it exits 0 with nothing on stderr but a note of
 * invalid records.
 */
export function countingCli(
  dir: () => string,
): (args: string[]) => Promise<{ summary: Summary; tsv: string }> {
  let runs = 0;
  return async (args) => {
    const counts = join(dir(), `counts-${runs++}.tsv`);
    const run = await runCli(['count', ...args, '--json', '--counts', counts]);
    expect(run.stderr.replace(/^wordcount: \d+ invalid record.*\n/m, '')).toBe('');
    expect(run.code).toBe(0);
    return {
      summary: SummarySchema.parse(JSON.parse(run.stdout)),
      tsv: await readFile(counts, 'utf8'),
    };
  };
}
