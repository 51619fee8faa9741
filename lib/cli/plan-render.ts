/** A dry plan as the CLI prints it: the job's shape, then time and bill per coordination. */
import type { CoordinationEstimate, PlanSummary } from '../contracts/plan.js';
import { formatSize } from '../sizes.js';

const number = new Intl.NumberFormat('en-US');

/** 0.4 s, 38 s, 4 min 10 s, 2 h 5 min. */
export function duration(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** Dollars to cents, or two significant digits under a cent. */
export function dollars(value: number): string {
  if (value === 0) return '$0';
  return `$${value >= 0.01 ? value.toFixed(2) : value.toPrecision(2)}`;
}

/** 1.67 billion, 13.9 million, 52,000. */
function roughly(n: number): string {
  if (n >= 1e12) return `${(n / 1e12).toFixed(2)} trillion`;
  if (n >= 1e9) return `${(n / 1e9).toFixed(n >= 1e10 ? 0 : 2)} billion`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} million`;
  return number.format(Math.round(n));
}

const TiB = 1024 ** 4;

/** As formatSize, and in TiB from a tebibyte. */
function size(bytes: number): string {
  return bytes >= TiB
    ? `${(Math.floor((bytes / TiB) * 100) / 100).toFixed(2)}TiB`
    : formatSize(bytes);
}

const plural = (n: number, word: string) => `${number.format(n)} ${word}${n === 1 ? '' : 's'}`;

function splitsLine(splits: PlanSummary['splits']): string {
  const names: Record<keyof PlanSummary['splits'], string> = {
    ranges: 'in byte ranges',
    rowGroups: 'by row groups',
    whole: 'whole',
    packed: 'packed',
  };
  return (Object.keys(names) as (keyof PlanSummary['splits'])[])
    .filter((k) => splits[k].objects > 0)
    .map(
      (k) =>
        `${plural(splits[k].objects, 'object')} (${size(splits[k].bytes)}) ${names[k]}: ${plural(splits[k].tasks, 'task')}`,
    )
    .join('; ');
}

function requests(e: CoordinationEstimate): number {
  return Object.values(e.cost.requests.s3).reduce((a, b) => a + b, 0);
}

export function planTable(plan: PlanSummary): string {
  const { tasks, estimate } = plan;
  const lines = [
    `plan      ${plan.source.uri}: ${plural(plan.source.objects, 'object')}, ${size(plan.source.bytes)} (${number.format(plan.source.bytes)} bytes), ${plan.mode} mode; nothing was read`,
    `chunks    ${formatSize(plan.chunkSize)}: ${plan.chunkSizeReason}`,
    `tasks     ${number.format(tasks.map)} map + ${number.format(tasks.reduce)} reduce + ${number.format(tasks.finalize)} finalize = ${number.format(tasks.total)}, over ${number.format(plan.partitions)} hash partitions`,
    `splits    ${splitsLine(plan.splits) || 'none: every object is empty'}`,
    `text      about ${size(estimate.textBytes)}: ${roughly(estimate.words)} words, ${roughly(estimate.distinctWords)} distinct; ${estimate.mapOutputBytes > 0 ? `${size(estimate.mapOutputBytes)} shuffled` : 'merged inline'}; the longest task ${duration(estimate.longestTaskSeconds)}`,
    `width     ${number.format(plan.width.counters)} counters at once: ${plan.width.reason}`,
  ];
  const shown = (['queue', 'rpc'] as const).filter((c) => estimate.coordinations[c]);
  const columns = shown.map((c) => estimate.coordinations[c] as CoordinationEstimate);
  const line = (label: string, cells: readonly string[]) =>
    `${label.padEnd(12)}${cells.map((c) => c.padEnd(30)).join('')}`.trimEnd();
  const row = (label: string, cell: (e: CoordinationEstimate) => string) =>
    line(label, columns.map(cell));
  lines.push(
    '',
    line('', shown),
    row('time', (e) => duration(e.seconds)),
    row('  start', (e) => duration(e.phasesSeconds.start)),
    row('  map', (e) => duration(e.phasesSeconds.map)),
  );
  if (tasks.reduce > 0) lines.push(row('  reduce', (e) => duration(e.phasesSeconds.reduce)));
  if (tasks.finalize > 0) lines.push(row('  finalize', (e) => duration(e.phasesSeconds.finalize)));
  lines.push(
    row('  publish', (e) => duration(e.phasesSeconds.publish)),
    row('cost', (e) => dollars(e.cost.usd.total)),
    row('  Lambda', (e) => {
      const u = e.cost.usd;
      return `${dollars(u.lambdaCompute + u.lambdaRequests)}, ${number.format(Math.round(e.cost.gbSeconds))} GB-s`;
    }),
    row('  S3', (e) => `${dollars(e.cost.usd.s3)}, ${number.format(requests(e))} requests`),
    row(
      '  SQS',
      (e) => `${dollars(e.cost.usd.sqs)}, ${number.format(e.cost.requests.sqs)} requests`,
    ),
  );
  const warnings = shown.flatMap((c) =>
    (estimate.coordinations[c]?.warnings ?? []).map((w) => `${c}: ${w}`),
  );
  if (warnings.length > 0) lines.push('', ...warnings.map((w) => `warning   ${w}`));
  lines.push('', 'assumptions', ...plan.assumptions.map((a) => `  - ${a}`));
  return `${lines.join('\n')}\n`;
}
