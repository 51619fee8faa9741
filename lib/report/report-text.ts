/**
 * The report's words and figures, composed here as plain strings (the page only places
 * them with textContent): the summary's figures, the Zipf fit and coverage sentences.
 */
import type { Summary } from '../contracts/summary.js';
import { formatSize } from '../sizes.js';
import { type ReportData, SAMPLES_PER_DECADE } from './report-data.js';

const number = new Intl.NumberFormat('en-US');

export interface ReportText {
  title: string;
  subtitle: string;
  /** Label and value pairs, in the order shown. */
  figures: [string, string][];
  /** Fields of the summary this page does not know (`cost`, ...), leaf by leaf, shown folded. */
  details: [string, string][];
  zipf: string;
  method: string;
  coverage: string;
}

/** Fields of the summary the figures name one by one; any other field is shown as found. */
const KNOWN = new Set([
  'jobId',
  'source',
  'sources',
  'mode',
  'totalWords',
  'distinctWords',
  'minCount',
  'keptWords',
  'chunks',
  'top',
  'elapsedMs',
  'invalidSequences',
  'longTokens',
  'stats',
]);
const MAX_DETAILS = 60;

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
}

function plain(value: number | string | boolean): string {
  if (typeof value !== 'number') return String(value);
  return Number.isInteger(value) ? number.format(value) : String(Number(value.toPrecision(4)));
}

/** A field the summary gained after this page was written (`cost`, ...): its leaves, labelled by path. */
function leaves(label: string, value: unknown, out: [string, string][]): void {
  if (out.length >= MAX_DETAILS) return;
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') {
    out.push([label, plain(value)]);
  } else if (Array.isArray(value)) {
    out.push([label, `${value.length} item(s)`]);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) leaves(`${label} ${key}`, inner, out);
  }
}

function summaryFigures(summary: Summary): [string, string][] {
  const { stats } = summary;
  const figures: [string, string][] = [
    ['words', number.format(summary.totalWords)],
    ['distinct words', number.format(summary.distinctWords)],
    ...keptFigure(summary),
    ['mode', summary.mode],
    [
      'input',
      summary.sources.objects === 1
        ? formatSize(summary.source.bytes)
        : `${number.format(summary.sources.objects)} objects, ${formatSize(summary.source.bytes)}`,
    ],
    ['elapsed', seconds(summary.elapsedMs)],
    ['map tasks', `${number.format(summary.chunks)} of up to ${formatSize(stats.chunkSize)}`],
    ['reduce tasks', stats.reduceTasks > 0 ? number.format(stats.reduceTasks) : 'merged inline'],
    ['parallel', number.format(stats.concurrency)],
    ['peak memory', formatSize(stats.maxRssBytes)],
  ];
  if (summary.invalidSequences > 0) {
    figures.push(['invalid UTF-8', number.format(summary.invalidSequences)]);
  }
  if (summary.longTokens > 0) figures.push(['long tokens', number.format(summary.longTokens)]);
  const { cost } = summary;
  if (cost?.backend === 'lambda') {
    figures.push(['cost', `$${cost.usd.total.toPrecision(2)} (${cost.gbSeconds.toFixed(1)} GB-s)`]);
  } else if (cost?.cpuSeconds !== undefined) {
    figures.push(['cost', `${cost.cpuSeconds.toFixed(2)} CPU-s here, $0`]);
  }
  if (summary.jobId !== undefined) figures.push(['job', summary.jobId]);
  return figures;
}

function keptFigure(summary: Summary): [string, string][] {
  if (summary.minCount === undefined || summary.keptWords === undefined) return [];
  return [
    [
      'kept',
      `${number.format(summary.keptWords)} counted at least ${number.format(summary.minCount)} times`,
    ],
  ];
}

/** The coverage sentence of counts that hold only the words counted at least minCount times. */
function keptCoverage(data: ReportData, minCount: number, covered: string, distinct?: number) {
  const share = (data.samples.at(-1)?.cumulative ?? 0) / data.totalWords;
  const of = distinct === undefined ? '' : `Of ${number.format(distinct)} distinct words, `;
  const kept = `the ${number.format(data.distinctWords)} counted at least ${number.format(minCount)} times make up ${percent(share)} of the text`;
  const sentence = `${of}${kept}${covered === '' ? '' : `; ${covered}`}.`;
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}

function details(summary: Summary): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(summary)) {
    if (!KNOWN.has(key)) leaves(key, value, out);
  }
  return out;
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** The texts of a report of `data`; `counts` names the counts file when there is no summary. */
export function reportText(data: ReportData, summary?: Summary, counts?: string): ReportText {
  const { zipf } = data;
  const coverage = data.coverage.map((c, i) =>
    i === 0
      ? `the ${number.format(c.rank)} most frequent make up ${percent(c.share)} of the text`
      : `the ${number.format(c.rank)} most frequent ${percent(c.share)}`,
  );
  const covered = coverage.join(' and ');
  return {
    title: 'Word frequencies',
    subtitle: summary?.source.uri ?? counts ?? '',
    figures: summary
      ? summaryFigures(summary)
      : [
          ['words', number.format(data.totalWords)],
          ['distinct words', number.format(data.distinctWords)],
        ],
    details: summary ? details(summary) : [],
    zipf: zipf
      ? `Zipf exponent s = ${zipf.exponent.toFixed(3)} (R² = ${zipf.r2.toFixed(3)}): the word of rank r is seen about ${number.format(Math.round(zipf.constant))} / r^${zipf.exponent.toFixed(2)} times.`
      : 'Too few words are seen more than once to fit Zipf’s law.',
    method: zipf
      ? `Fit: least squares of log count on log rank over ${zipf.points} log-spaced ranks (every rank up to 10, then ${SAMPLES_PER_DECADE} per decade, and the last) from ${number.format(zipf.fromRank)} to ${number.format(zipf.toRank)}; words seen once are left out, their plateau being the floor of counting, not the law.`
      : '',
    coverage:
      data.totalWords === 0
        ? 'The text has no words.'
        : data.minCount !== undefined
          ? keptCoverage(data, data.minCount, covered, summary?.distinctWords)
          : `Of ${number.format(data.distinctWords)} distinct words, ${covered}.`,
  };
}
