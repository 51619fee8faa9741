/**
 * The package as a library: a Node program (and a TypeScript one) that imports
 * 'wordcount-fanout' by name, through package.json's `exports`, gets the engine without
 * the CLI. The package is linked into a scratch project's node_modules, as npm would.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectedTsv } from '../support/oracle.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
let project: string;

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'wordcount-library-'));
  await mkdir(join(project, 'node_modules'));
  await symlink(root, join(project, 'node_modules', 'wordcount-fanout'), 'dir');
  await writeFile(join(project, 'package.json'), '{"type": "module"}\n');
  await writeFile(join(project, 'book.txt'), 'The cat saw the other cat.\nThe end.\n');
});

describe("import { countFile } from 'wordcount-fanout'", () => {
  it('counts a file from a plain Node program, counts file and all', async () => {
    await writeFile(
      join(project, 'count.mjs'),
      `import { countFile } from 'wordcount-fanout';
       const summary = await countFile('book.txt', { top: 2, counts: 'counts.tsv', workers: 2 });
       console.log(JSON.stringify({ total: summary.totalWords, top: summary.top }));`,
    );
    const { stdout, stderr } = await run(process.execPath, ['count.mjs'], { cwd: project });
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toEqual({
      total: 8,
      top: [
        { word: 'the', count: 3 },
        { word: 'cat', count: 2 },
      ],
    });
    const book = await readFile(join(project, 'book.txt'));
    expect(await readFile(join(project, 'counts.tsv'), 'utf8')).toBe(expectedTsv('words', book));
  });

  it('reads JSON Lines with a field, as the CLI does', async () => {
    await writeFile(
      join(project, 'docs.jsonl'),
      '{"meta": {"body": "The cat"}, "text": "not this"}\n\n{"meta": {"body": "the end"}}\nnot json\n',
    );
    await writeFile(
      join(project, 'jsonl.mjs'),
      `import { countFile } from 'wordcount-fanout';
       const s = await countFile('docs.jsonl', { field: 'meta.body', workers: 1 });
       console.log(JSON.stringify([s.totalWords, s.records, s.skippedRecords, s.invalidRecords, s.top]));`,
    );
    const { stdout } = await run(process.execPath, ['jsonl.mjs'], { cwd: project });
    expect(JSON.parse(stdout)).toEqual([
      4,
      2,
      1,
      1,
      [
        { word: 'the', count: 2 },
        { word: 'cat', count: 1 },
        { word: 'end', count: 1 },
      ],
    ]);
  });

  it('type-checks a TypeScript program against the declarations it ships', async () => {
    await writeFile(
      join(project, 'count.ts'),
      `import { countFile, type Summary } from 'wordcount-fanout';
       const summary: Summary = await countFile(['book.txt'], { mode: 'whitespace' });
       const total: number = summary.totalWords;
       // @ts-expect-error: not a mode
       await countFile('book.txt', { mode: 'nouns' });
       await countFile('docs.jsonl', { format: 'jsonl', field: 'meta.body', strict: true });
       // @ts-expect-error: not a format
       await countFile('book.txt', { format: 'csv' });
       export { total };`,
    );
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(root, 'node_modules', '@types')],
        },
        files: ['count.ts'],
      }),
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const { stdout } = await run(process.execPath, [tsc, '-p', project]).catch(
      (error: { stdout: string }) => ({ stdout: error.stdout }),
    );
    expect(stdout).toBe('');
  });
});
