/** The HTML report of a counts file on this machine, written where asked. */
import { createReadStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Summary } from '../contracts/summary.js';
import { ObjectNotFoundError, WordcountError } from '../errors.js';
import { reportHtmlFromCounts, totalOfCounts } from './from-counts.js';

const READ_BYTES = 1 << 20;

/** `counts.tsv` → `counts.report.html`; any other name gets `.report.html` appended. */
export function defaultReportPath(counts: string): string {
  return counts.endsWith('.tsv')
    ? `${counts.slice(0, -'.tsv'.length)}.report.html`
    : `${counts}.report.html`;
}

function reason(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return (error as Error).message;
}

/** Fails early, before any counting, when the report could not be written where asked. */
export async function checkReportTarget(out: string): Promise<void> {
  const dir = dirname(resolve(out));
  const found = await stat(dir).catch(() => undefined);
  if (!found?.isDirectory()) {
    throw new WordcountError(`${out}: cannot write the report: no such directory ${dir}`);
  }
  if ((await stat(out).catch(() => undefined))?.isDirectory()) {
    throw new WordcountError(`${out}: cannot write the report: is a directory; name a file`);
  }
}

async function checkCounts(path: string): Promise<void> {
  const found = await stat(path).catch((error: unknown) => {
    throw new ObjectNotFoundError(path, reason(error), { cause: error });
  });
  if (!found.isFile()) throw new ObjectNotFoundError(path, 'not a regular file');
}

/**
 * Writes the report of the counts file `counts` to `out`. With the job's summary its
 * total is known and the file is read once; without, once more to add it up.
 */
export async function writeReportOfCounts(
  counts: string,
  out: string,
  summary?: Summary,
): Promise<void> {
  await checkCounts(counts);
  await checkReportTarget(out);
  const read = () => createReadStream(counts, { highWaterMark: READ_BYTES });
  const total = summary?.totalWords ?? (await totalOfCounts(read(), counts));
  const html = await reportHtmlFromCounts(read(), total, summary, counts);
  await writeFile(out, html).catch((error: unknown) => {
    throw new WordcountError(`${out}: cannot write the report: ${reason(error)}`, {
      cause: error,
    });
  });
}
