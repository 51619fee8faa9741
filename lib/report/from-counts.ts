/**
 * A report from a counts stream (a local file, an S3 object): one pass when the total of
 * words is known (a job's summary has it), else one more pass to add it up first.
 */
import type { Summary } from '../contracts/summary.js';
import { CorruptInputError, messageOf } from '../errors.js';
import { forEachCountLine } from './count-lines.js';
import { renderReport } from './render-report.js';
import { type KeptCounts, REPORT_TOP, ReportAccumulator, type ReportData } from './report-data.js';

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** The sum of the counts, every line checked; `what` names the stream in errors. */
export async function totalOfCounts(
  lines: AsyncIterable<Uint8Array>,
  what = 'counts',
): Promise<number> {
  let total = 0;
  await forEachCountLine(lines, what, (_bytes, _start, _tab, count) => {
    total += count;
  });
  return total;
}

/**
 * The report's data from counts in output order whose sum is `totalWords`, or with
 * `kept`, the most frequent words of a text of `totalWords`.
 */
export async function reportDataFromCounts(
  lines: AsyncIterable<Uint8Array>,
  totalWords: number,
  what = 'counts',
  top = REPORT_TOP,
  kept?: KeptCounts,
): Promise<ReportData> {
  const report = new ReportAccumulator(totalWords, top, kept);
  await forEachCountLine(lines, what, (bytes, start, tab, count) => {
    report.add(report.wantsWord ? decoder.decode(bytes.subarray(start, tab)) : '', count);
  });
  try {
    return report.finish();
  } catch (error) {
    // The lines were well formed but do not add up to the text's total.
    throw new CorruptInputError(`${what}: ${messageOf(error)}`, { cause: error });
  }
}

/**
 * The HTML report of a job's counts file (`word<TAB>count\n` in output order), with the
 * job's summary when given; `totalWords` is the summary's. A summary with `minCount`
 * says the file holds only its `keptWords`. For the S3 flow as for the CLI.
 */
export async function reportHtmlFromCounts(
  lines: AsyncIterable<Uint8Array>,
  totalWords: number,
  summary?: Summary,
  what = 'counts',
): Promise<string> {
  const kept =
    summary?.minCount !== undefined && summary.keptWords !== undefined
      ? { minCount: summary.minCount, words: summary.keptWords }
      : undefined;
  return renderReport(
    await reportDataFromCounts(lines, totalWords, what, REPORT_TOP, kept),
    summary,
    what,
  );
}
