/**
 * Counting on the embedded backend: local sources (local-sources.ts) become the objects
 * of one job over the file system, a worker-thread pool runs its map and reduce tasks
 * (the map phase its own way: each thread holds its counts), and spilled partials live
 * in a temporary directory removed when the count ends. What `wordcount count FILE`
 * and the library's `countFile` run.
 */
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { FileObjectStore } from '../adapters/file-store.js';
import { heldCountsMapPhase } from '../adapters/worker-pool/held-map-phase.js';
import { WorkerPoolRunner } from '../adapters/worker-pool/runner.js';
import type { RecordOptions } from '../contracts/records.js';
import type { Summary } from '../contracts/summary.js';
import { RequestMeter } from '../cost/request-meter.js';
import { startCpu, startUsage } from '../cost/usage.js';
import type { JobProgress } from '../job/phases/job-progress.js';
import { inputEtag } from '../keys.js';
import { autoChunkSize, totalBytes } from '../plan.js';
import type { Mode } from '../tokenize.js';
import { ROOT, refuseInputAsCounts, resolveSources } from './local-sources.js';

/**
 * A worker thread's held counts bigger than this as lines (about 80,000 words) are
 * spilled to the temporary directory: measured, the shuffle beats merging inline from a
 * few hundred thousand distinct words up (README, Performance).
 */
export const EMBEDDED_INLINE_LIMIT_BYTES = 1024 * 1024;

export interface LocalOptions {
  mode: Mode;
  /** How the files are read: format, field, strict (defaults when absent). */
  records?: RecordOptions;
  workers?: number;
  chunkSize?: number;
  top: number;
  /** Words counted fewer times are left out of the counts file, the top and the report. */
  minCount?: number;
  counts?: string;
  /** An HTML report of the counts (written to the temporary directory without `counts`). */
  report?: string;
  reduce?: 'auto' | 'inline' | 'partitioned';
  /** Told of each task's end (the CLI's progress bar). */
  onProgress?: (progress: JobProgress) => void;
  /**
   * Removes the temporary directory on SIGINT and SIGTERM too, then dies of the signal
   * (the CLI); a library caller keeps its own signal handling.
   */
  cleanUpOnSignals?: boolean;
}

function describe(args: readonly string[]): string {
  return args.map((a) => (a === '-' ? '-' : resolve(a))).join(' ');
}

export async function countLocal(args: readonly string[], options: LocalOptions): Promise<Summary> {
  const startedAt = performance.now();
  const scratch = await mkdtemp(join(tmpdir(), 'wordcount-'));
  // A write the main thread started may still add a file while the tree is removed: rm
  // tries again then (ENOTEMPTY).
  const removeScratch = () =>
    rmSync(scratch, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
  let runner: WorkerPoolRunner | undefined;
  // Partials can be gigabytes: remove them on Ctrl-C too, then die of the signal as usual.
  // The worker threads stop first, or they go on writing spills into what is removed.
  const interrupted = (signal: NodeJS.Signals) => {
    void (runner?.close() ?? Promise.resolve())
      .catch(() => undefined)
      .finally(() => {
        try {
          removeScratch();
        } finally {
          process.kill(process.pid, signal);
        }
      });
  };
  process.once('exit', removeScratch);
  if (options.cleanUpOnSignals) {
    process.once('SIGINT', interrupted);
    process.once('SIGTERM', interrupted);
  }
  // The driver's own reads and writes, as the S3 requests they stand for (the cost).
  const meter = new RequestMeter();
  const driver = startUsage(meter, 0);
  const cpuSeconds = startCpu();
  const sources = new FileObjectStore(ROOT, { meter });
  try {
    const report =
      options.report === undefined ? undefined : await import('../report/report-file.js');
    await report?.checkReportTarget(options.report as string);
    const objects = await resolveSources(sources, args, scratch);
    if (options.counts !== undefined) await refuseInputAsCounts(options.counts, objects);
    if (options.report !== undefined) {
      await refuseInputAsCounts(options.report, objects, '--report');
    }
    const bytes = totalBytes(objects);
    const wanted = options.workers ?? availableParallelism();
    const chunkSize = options.chunkSize ?? autoChunkSize(bytes, wanted);
    // No more threads than there can be tasks: a 1 KB file does not start 64 workers.
    const workers = Math.max(1, Math.min(wanted, Math.ceil(bytes / chunkSize)));
    const pool = new WorkerPoolRunner({
      size: workers,
      workerData: { sourceRoot: ROOT, workRoot: scratch },
      inProcess: true,
    });
    runner = pool;
    // The job's modules load while the worker threads start.
    const { runJob } = await import('../job/rpc/run-phases.js');
    const target =
      options.counts !== undefined
        ? resolve(options.counts)
        : report && join(scratch, 'counts.tsv');
    const summary = await runJob(
      {
        sources,
        work: new FileObjectStore(scratch, { meter }),
        runner: pool,
        taskFunction: 'counter',
        mapPhase: heldCountsMapPhase(pool, 'counter'),
        cost: { backend: 'embedded', driverName: 'driver', driver, cpuSeconds },
        onProgress: options.onProgress,
      },
      {
        source: { uri: describe(args), etag: inputEtag(objects) },
        objects,
        mode: options.mode,
        records: options.records,
        chunkSize,
        concurrency: workers,
        top: options.top,
        minCount: options.minCount,
        workPrefix: '',
        inlineLimitBytes: EMBEDDED_INLINE_LIMIT_BYTES,
        counts:
          target === undefined
            ? undefined
            : { store: new FileObjectStore(dirname(target), { meter }), key: basename(target) },
        startedAt,
        reduce: options.reduce,
      },
    );
    if (report && target) {
      await report.writeReportOfCounts(target, options.report as string, summary);
    }
    return summary;
  } finally {
    await runner?.close();
    removeScratch();
    process.removeListener('exit', removeScratch);
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
  }
}
