/**
 * `wordcount count` on local sources: the embedded backend. Files, directories (every
 * regular file under them, in path order, symbolic links not followed) and `-`
 * (standard input) become the objects of one job over the file system; a worker-thread
 * pool runs its map and reduce tasks; spilled partials live in a temporary directory
 * removed when the command ends.
 */
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { mkdtemp, readFile, realpath, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { FileObjectStore } from '../adapters/file-store.js';
import { WorkerPoolRunner } from '../adapters/worker-pool-runner.js';
import type { Summary } from '../contracts.js';
import { RequestMeter } from '../cost/request-meter.js';
import { startCpu, startUsage } from '../cost/usage.js';
import { messageOf, ObjectNotFoundError, UsageError } from '../errors.js';
import { inputEtag } from '../keys.js';
import { autoChunkSize, type SourceObject } from '../plan.js';
import type { Mode } from '../tokenize.js';
import { progressBar } from './progress-bar.js';

/**
 * A worker thread's held counts bigger than this as lines (about 80,000 words) are
 * spilled to the temporary directory: measured, the shuffle beats merging inline from a few hundred thousand
 * distinct words up (README, Performance).
 */
export const EMBEDDED_INLINE_LIMIT_BYTES = 1024 * 1024;

export interface LocalOptions {
  mode: Mode;
  workers?: number;
  chunkSize?: number;
  top: number;
  counts?: string;
  /** An HTML report of the counts (written to the temporary directory without `counts`). */
  report?: string;
  reduce?: 'auto' | 'inline' | 'partitioned';
  /** A progress bar on stderr when it is a terminal (the CLI); false for a library caller. */
  progress?: boolean;
}

/** Keys of the store rooted at `/` are absolute paths without their leading slash. */
const ROOT = '/';
const keyOf = (path: string) => path.slice(1);

/** Copies what is not a regular file (standard input, a pipe) into `dir`, to count it as one. */
async function spool(
  from: NodeJS.ReadableStream,
  dir: string,
  n: number,
  name: string,
): Promise<string> {
  const path = join(dir, `spooled-${n}`);
  await pipeline(from, createWriteStream(path)).catch((error: unknown) => {
    throw new ObjectNotFoundError(name, `cannot be read: ${messageOf(error)}`, { cause: error });
  });
  return path;
}

/** File systems of generated files: their sizes (0, or a page) are not their lengths. */
const PSEUDO_FILE_SYSTEMS = new Set(['proc', 'sysfs', 'cgroup', 'cgroup2', 'debugfs', 'tracefs']);

/** Where such file systems are mounted, in path order (Linux; none elsewhere). */
async function pseudoMounts(): Promise<{ at: string; type: string }[]> {
  const table = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return table
    .split('\n')
    .flatMap((line) => {
      // ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS [TAGS...] - TYPE SOURCE OPTIONS
      const fields = line.split(' ');
      const type = fields[fields.indexOf('-') + 1] ?? '';
      const at = (fields[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) =>
        String.fromCharCode(Number.parseInt(o, 8)),
      );
      return fields.includes('-') && PSEUDO_FILE_SYSTEMS.has(type) ? [{ at, type }] : [];
    })
    .sort((a, b) => (a.at < b.at ? -1 : 1));
}

const within = (path: string, dir: string) =>
  path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

async function resolveSources(
  store: FileObjectStore,
  args: readonly string[],
  scratch: string,
): Promise<SourceObject[]> {
  const objects: SourceObject[] = [];
  let spooled = 0;
  if (args.filter((a) => a === '-').length > 1) {
    throw new UsageError('-: standard input can be read once: name it once');
  }
  // An unset variable ("$FILE") would otherwise count the current directory.
  if (args.includes('')) throw new UsageError("'': an empty source names no file");
  const pseudo = await pseudoMounts();
  for (const arg of args) {
    if (arg === '-') {
      const info = await store.head(keyOf(await spool(process.stdin, scratch, spooled++, '-')));
      objects.push({ ...info, uri: '-' });
      continue;
    }
    const path = resolve(arg);
    const found = await stat(path).catch((error: { code?: string }) => {
      const denied = error.code === 'EACCES' || error.code === 'EPERM';
      throw new ObjectNotFoundError(
        path,
        denied ? 'permission denied' : 'no such file or directory',
        {
          cause: error,
        },
      );
    });
    // A link named here is followed: the walk below follows none.
    const real = await realpath(path);
    const generated = pseudo.find((m) => within(real, m.at));
    if (found.isDirectory()) {
      // Walking /proc or /sys would plan by sizes that are not lengths, or never end.
      const mount = generated ?? pseudo.find((m) => within(m.at, real));
      if (mount) {
        throw new ObjectNotFoundError(
          mount.at,
          `a ${mount.type} file system of generated files, not walked; name its files one by one`,
        );
      }
      const listed: SourceObject[] = [];
      for await (const info of store.list(keyOf(real === ROOT ? real : `${real}/`)))
        listed.push(info);
      if (listed.length === 0)
        throw new ObjectNotFoundError(path, 'no regular files in this directory');
      objects.push(...listed);
    } else if (found.isFile() && found.size > 0 && !generated) {
      objects.push(await store.head(keyOf(path)));
    } else {
      // A named pipe (`<(zcat x.gz)`), a device, or a file whose size may not be its
      // length (/proc/cpuinfo says 0 bytes): read once, like standard input.
      const copy = await spool(createReadStream(path), scratch, spooled++, path);
      objects.push({ ...(await store.head(keyOf(copy))), uri: path });
    }
  }
  // Each object once, whichever arguments name it.
  const seen = new Set<string>();
  return objects.filter((o) => !seen.has(o.key) && seen.add(o.key));
}

/** Writing the counts (or the report) over one of the inputs would destroy what was counted. */
async function refuseInputAsCounts(
  path: string,
  objects: readonly SourceObject[],
  option = '--counts',
): Promise<void> {
  const target = await stat(path).catch(() => undefined);
  if (!target?.isFile()) return;
  for (const o of objects) {
    if (o.size !== target.size) continue;
    const input = await stat(`${ROOT}${o.key}`).catch(() => undefined);
    if (input?.ino === target.ino && input.dev === target.dev) {
      throw new UsageError(`${option} ${path}: is also a source of this count; name another file`);
    }
  }
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
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  // The driver's own reads and writes, as the S3 requests they stand for (the cost).
  const meter = new RequestMeter();
  const driver = startUsage(meter, 0);
  const cpuSeconds = startCpu();
  const sources = new FileObjectStore(ROOT, { meter });
  const bar = options.progress === false ? undefined : await progressBar();
  try {
    const report = options.report === undefined ? undefined : await import('./report.js');
    await report?.checkReportTarget(options.report as string);
    const objects = await resolveSources(sources, args, scratch);
    if (options.counts !== undefined) await refuseInputAsCounts(options.counts, objects);
    if (options.report !== undefined) {
      await refuseInputAsCounts(options.report, objects, '--report');
    }
    const bytes = objects.reduce((sum, o) => sum + o.size, 0);
    const wanted = options.workers ?? availableParallelism();
    const chunkSize = options.chunkSize ?? autoChunkSize(bytes, wanted);
    // No more threads than there can be tasks: a 1 KB file does not start 64 workers.
    const workers = Math.max(1, Math.min(wanted, Math.ceil(bytes / chunkSize)));
    runner = new WorkerPoolRunner({
      size: workers,
      workerData: { sourceRoot: ROOT, workRoot: scratch },
      binary: true,
    });
    // The job's modules load while the worker threads start.
    const { runJob } = await import('../job/run-job.js');
    const target =
      options.counts !== undefined
        ? resolve(options.counts)
        : report && join(scratch, 'counts.tsv');
    const summary = await runJob(
      {
        sources,
        work: new FileObjectStore(scratch, { meter }),
        runner,
        taskFunction: 'counter',
        cost: { backend: 'embedded', driverName: 'driver', driver, cpuSeconds },
        onProgress: bar?.update,
      },
      {
        source: { uri: describe(args), etag: inputEtag(objects) },
        objects,
        mode: options.mode,
        chunkSize,
        concurrency: workers,
        top: options.top,
        workPrefix: '',
        inlineLimitBytes: EMBEDDED_INLINE_LIMIT_BYTES,
        holdCounts: true,
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
    bar?.stop();
    await runner?.close();
    removeScratch();
    process.removeListener('exit', removeScratch);
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
  }
}
