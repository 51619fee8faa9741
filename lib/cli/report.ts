/** `wordcount report COUNTS.tsv`: the HTML report of a counts file, written beside it or where asked. */
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { defaultReportPath, writeReportOfCounts } from '../report/report-file.js';

/** The `report` command: prints where the page went. */
export async function reportCommand(counts: string, options: { out?: string }): Promise<void> {
  const out = options.out ?? defaultReportPath(counts);
  if (resolve(out) === resolve(counts)) {
    throw new UsageError(`--out ${out}: is the counts file itself; name another file`);
  }
  await writeReportOfCounts(counts, out);
  process.stdout.write(`report  ${out}\n`);
}
