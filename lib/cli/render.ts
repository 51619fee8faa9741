/** The summary as a table, the way the CLI prints it. */
import stringWidth from 'string-width';
import type { Summary } from '../contracts/summary.js';
import { formatSize } from '../sizes.js';

const number = new Intl.NumberFormat('en-US');

export function summaryTable(summary: Summary): string {
  const seconds = summary.elapsedMs / 1000;
  const rate = seconds > 0 ? `${(summary.source.bytes / 1e6 / seconds).toFixed(1)} MB/s` : '-';
  const objects =
    summary.sources.objects === 1 ? '' : `${number.format(summary.sources.objects)} objects, `;
  const { stats } = summary;
  const lines = [
    `source  ${summary.source.uri} (${objects}${number.format(summary.source.bytes)} bytes)`,
    `mode    ${summary.mode}${summary.segmenter ? ` (segmenter ${summary.segmenter})` : ''}${summary.ngram ? `, ${summary.ngram}-grams` : ''}${summary.docFreq ? `, document frequency over ${number.format(summary.documents ?? 0)} document(s)` : ''}, ${summary.chunks} map task(s) of up to ${formatSize(stats.chunkSize)}, up to ${stats.concurrency} at once`,
  ];
  if (stats.reduceTasks > 0) {
    lines.push(`reduce  ${stats.reduceTasks} task(s) over ${stats.partitions} hash partitions`);
  }
  lines.push(
    `words   ${number.format(summary.totalWords)} total, ${number.format(summary.distinctWords)} distinct, in ${seconds.toFixed(2)} s (${rate})`,
  );
  if (summary.minCount !== undefined && summary.keptWords !== undefined) {
    lines.push(
      `kept    ${number.format(summary.keptWords)} word(s) counted at least ${number.format(summary.minCount)} times`,
    );
  }
  if (summary.records !== undefined) {
    const text = stats.textBytes === undefined ? '' : `, ${formatSize(stats.textBytes)} of text`;
    lines.push(
      `records ${number.format(summary.records)} counted, ${number.format(summary.skippedRecords ?? 0)} skipped, ${number.format(summary.invalidRecords ?? 0)} invalid${text}`,
    );
  } else if (stats.uncompressedBytes !== summary.source.bytes) {
    lines.push(`note    ${number.format(stats.uncompressedBytes)} bytes after decompressing`);
  }
  if (summary.invalidSequences > 0) {
    lines.push(
      `note    ${number.format(summary.invalidSequences)} invalid UTF-8 sequence(s) read as U+FFFD`,
    );
  }
  if (summary.longTokens > 0) {
    lines.push(
      `note    ${number.format(summary.longTokens)} token(s) over ${stats.tokenCapBytes} bytes counted under their first bytes + "…"`,
    );
  }
  if (summary.cost) lines.push(...costLines(summary.cost));
  if (summary.top.length > 0) {
    // Columns by display width: a CJK character takes two terminal cells.
    let width = 4;
    for (const t of summary.top) width = Math.max(width, stringWidth(t.word));
    let countWidth = 5;
    for (const t of summary.top) countWidth = Math.max(countWidth, number.format(t.count).length);
    lines.push('', `   #  ${'word'.padEnd(width)}  ${'count'.padStart(countWidth)}   share`);
    summary.top.forEach((t, i) => {
      const share =
        summary.totalWords > 0 ? ((100 * t.count) / summary.totalWords).toFixed(2) : '0';
      const pad = ' '.repeat(width - stringWidth(t.word));
      lines.push(
        `${String(i + 1).padStart(4)}  ${t.word}${pad}  ${number.format(t.count).padStart(countWidth)}  ${share.padStart(5)}%`,
      );
    });
  }
  return `${lines.join('\n')}\n`;
}

/** One line about invalid records (never silent), or undefined when there were none. */
export function invalidRecordsLine(summary: Summary): string | undefined {
  const n = summary.invalidRecords ?? 0;
  if (n === 0) return undefined;
  const first = summary.firstInvalidRecord;
  const where = first
    ? `; the first: ${first.uri}${first.line !== undefined ? ` line ${first.line}` : first.byte !== undefined ? ` at byte ${first.byte}` : ''}: ${first.reason}`
    : '';
  return `${number.format(n)} invalid record(s) not counted${where} (--strict fails on them)`;
}

type Cost = NonNullable<Summary['cost']>;

/** Dollars to the first significant digits: a job's cost is often a fraction of a cent. */
function usd(value: number): string {
  if (value === 0) return '$0';
  return `$${value >= 0.01 ? value.toFixed(2) : value.toPrecision(2)}`;
}

/** Requests by type, the ones made: "23 GET, 2 HEAD". */
function s3Requests(s3: Cost['requests']['s3']): string {
  const made = Object.entries(s3).filter(([, n]) => n > 0);
  if (made.length === 0) return 'none';
  return made
    .map(
      ([type, n]) => `${number.format(n)} ${type === 'parts' ? 'part upload' : type.toUpperCase()}`,
    )
    .join(', ');
}

/** The cost block of the summary table. */
export function costLines(cost: Cost): string[] {
  const functions = Object.entries(cost.functions)
    .map(([name, f]) => {
      const time =
        cost.backend === 'lambda'
          ? `${f.gbSeconds.toFixed(3)} GB-s`
          : `${(f.billedMs / 1000).toFixed(2)} s`;
      return `${name}: ${number.format(f.invocations)} invocation(s), ${time}`;
    })
    .join(', ');
  const retries = cost.retries > 0 ? `, ${number.format(cost.retries)} retried` : '';
  if (cost.backend === 'embedded') {
    return [
      `cost    $0 here: ${cost.cpuSeconds?.toFixed(2) ?? '?'} CPU-s on this machine`,
      `        tasks   ${functions}${retries}`,
      `        files   ${s3Requests(cost.requests.s3)} (as S3 requests)`,
    ];
  }
  return [
    `cost    ${usd(cost.usd.total)} estimated at ${cost.prices?.name ?? 'list prices'}`,
    `        Lambda  ${functions}${retries}: ${usd(cost.usd.lambdaCompute + cost.usd.lambdaRequests)}`,
    `        S3      ${s3Requests(cost.requests.s3)}: ${usd(cost.usd.s3)}`,
    `        SQS     ${number.format(cost.requests.sqs)} request(s): ${usd(cost.usd.sqs)}`,
  ];
}
