/** What the CLI shows: the progress bar on a terminal and the summary as a table. */
import { SingleBar } from 'cli-progress';
import type { Summary } from '../contracts.js';
import type { JobProgress } from '../job/run-job.js';
import { formatSize } from '../sizes.js';

export interface ProgressBar {
  update(progress: JobProgress): void;
  stop(): void;
}

/** A bar on stderr when it is a terminal; nothing otherwise. */
export function progressBar(stream: NodeJS.WriteStream = process.stderr): ProgressBar | undefined {
  if (!stream.isTTY) return undefined;
  const bar = new SingleBar({
    stream,
    format: (_options, params, payload: { phase: string; detail: string }) => {
      const width = 30;
      const filled = Math.round(params.progress * width);
      return `${payload.phase.padEnd(9)} [${'='.repeat(filled)}${' '.repeat(width - filled)}] ${Math.floor(params.progress * 100)}% | ${payload.detail}`;
    },
    hideCursor: true,
    clearOnComplete: true,
  });
  let started = false;
  return {
    update(p) {
      const mapping = p.phase === 'map';
      const total = mapping ? Math.max(1, p.bytes) : Math.max(1, p.tasks);
      const value = mapping ? p.bytesDone : p.tasksDone;
      const payload = {
        phase: mapping ? 'counting' : p.phase === 'reduce' ? 'reducing' : 'writing',
        detail: mapping
          ? `${(p.bytesDone / 1e6).toFixed(1)}/${(p.bytes / 1e6).toFixed(1)} MB | ${p.tasksDone}/${p.tasks} tasks`
          : `${p.tasksDone}/${p.tasks} tasks`,
      };
      if (!started) {
        bar.start(total, value, payload);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(value, payload);
      }
    },
    stop: () => bar.stop(),
  };
}

const number = new Intl.NumberFormat('en-US');

export function summaryTable(summary: Summary): string {
  const seconds = summary.elapsedMs / 1000;
  const rate = seconds > 0 ? `${(summary.source.bytes / 1e6 / seconds).toFixed(1)} MB/s` : '-';
  const objects =
    summary.sources.objects === 1 ? '' : `${number.format(summary.sources.objects)} objects, `;
  const { stats } = summary;
  const lines = [
    `source  ${summary.source.uri} (${objects}${number.format(summary.source.bytes)} bytes)`,
    `mode    ${summary.mode}, ${summary.chunks} map task(s) of up to ${formatSize(stats.chunkSize)}, up to ${stats.concurrency} at once`,
  ];
  if (stats.reduceTasks > 0) {
    lines.push(`reduce  ${stats.reduceTasks} task(s) over ${stats.partitions} hash partitions`);
  }
  lines.push(
    `words   ${number.format(summary.totalWords)} total, ${number.format(summary.distinctWords)} distinct, in ${seconds.toFixed(2)} s (${rate})`,
  );
  if (stats.uncompressedBytes !== summary.source.bytes) {
    lines.push(`note    ${number.format(stats.uncompressedBytes)} bytes after decompressing gzip`);
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
  if (summary.top.length > 0) {
    let width = 4;
    for (const t of summary.top) width = Math.max(width, [...t.word].length);
    let countWidth = 5;
    for (const t of summary.top) countWidth = Math.max(countWidth, number.format(t.count).length);
    lines.push('', `   #  ${'word'.padEnd(width)}  ${'count'.padStart(countWidth)}   share`);
    summary.top.forEach((t, i) => {
      const share =
        summary.totalWords > 0 ? ((100 * t.count) / summary.totalWords).toFixed(2) : '0';
      const pad = ' '.repeat(width - [...t.word].length);
      lines.push(
        `${String(i + 1).padStart(4)}  ${t.word}${pad}  ${number.format(t.count).padStart(countWidth)}  ${share.padStart(5)}%`,
      );
    });
  }
  return `${lines.join('\n')}\n`;
}
