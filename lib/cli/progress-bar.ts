/** The progress bar the CLI draws on a terminal while a job runs. */
import type { JobProgress } from '../job/phases/job-progress.js';

export interface ProgressBar {
  update(progress: JobProgress): void;
  stop(): void;
}

/** A bar on stderr when it is a terminal (cli-progress loads only then); nothing otherwise. */
export async function progressBar(
  stream: NodeJS.WriteStream = process.stderr,
): Promise<ProgressBar | undefined> {
  if (!stream.isTTY) return undefined;
  const { SingleBar } = await import('cli-progress');
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
