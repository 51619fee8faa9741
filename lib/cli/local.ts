/**
 * `wordcount count` on local sources: the embedded backend. Files, directories (every
 * regular file under them, in path order, symbolic links not followed) and `-`
 * (standard input) become the objects of one job over the file system; a worker-thread
 * pool runs its map and reduce tasks; spilled partials live in a temporary directory
 * removed when the command ends.
 */
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { mkdtemp, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { FileObjectStore } from '../adapters/file-store.js';
import { WorkerPoolRunner } from '../adapters/worker-pool-runner.js';
import type { Summary } from '../contracts.js';
import { ObjectNotFoundError } from '../errors.js';
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
  reduce?: 'auto' | 'inline' | 'partitioned';
  /** A progress bar on stderr when it is a terminal (the CLI); false for a library caller. */
  progress?: boolean;
}

/** Keys of the store rooted at `/` are absolute paths without their leading slash. */
const ROOT = '/';
const keyOf = (path: string) => path.slice(1);

/** Copies what is not a regular file (standard input, a pipe) into `dir`, to count it as one. */
async function spool(from: NodeJS.ReadableStream, dir: string, n: number): Promise<string> {
  const path = join(dir, `spooled-${n}`);
  await pipeline(from, createWriteStream(path));
  return path;
}

async function resolveSources(
  store: FileObjectStore,
  args: readonly string[],
  scratch: string,
): Promise<SourceObject[]> {
  const objects: SourceObject[] = [];
  let spooled = 0;
  for (const arg of args) {
    if (arg === '-') {
      const info = await store.head(keyOf(await spool(process.stdin, scratch, spooled++)));
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
    if (found.isDirectory()) {
      const listed: SourceObject[] = [];
      for await (const info of store.list(keyOf(path === ROOT ? path : `${path}/`)))
        listed.push(info);
      if (listed.length === 0)
        throw new ObjectNotFoundError(path, 'no regular files in this directory');
      objects.push(...listed);
    } else if (found.isFile()) {
      objects.push(await store.head(keyOf(path)));
    } else {
      // A named pipe (`<(zcat x.gz)`) or a device: read once, like standard input.
      const copy = await spool(createReadStream(path), scratch, spooled++);
      objects.push({ ...(await store.head(keyOf(copy))), uri: path });
    }
  }
  // Each object once, whichever arguments name it.
  const seen = new Set<string>();
  return objects.filter((o) => !seen.has(o.key) && seen.add(o.key));
}

function describe(args: readonly string[]): string {
  return args.map((a) => (a === '-' ? '-' : resolve(a))).join(' ');
}

export async function countLocal(args: readonly string[], options: LocalOptions): Promise<Summary> {
  const startedAt = performance.now();
  const scratch = await mkdtemp(join(tmpdir(), 'wordcount-'));
  const removeScratch = () => rmSync(scratch, { recursive: true, force: true });
  // Partials can be gigabytes: remove them on Ctrl-C too, then die of the signal as usual.
  const interrupted = (signal: NodeJS.Signals) => {
    removeScratch();
    process.kill(process.pid, signal);
  };
  process.once('exit', removeScratch);
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const sources = new FileObjectStore(ROOT);
  let runner: WorkerPoolRunner | undefined;
  const bar = options.progress === false ? undefined : await progressBar();
  try {
    const objects = await resolveSources(sources, args, scratch);
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
    const target = options.counts === undefined ? undefined : resolve(options.counts);
    return await runJob(
      {
        sources,
        work: new FileObjectStore(scratch),
        runner,
        taskFunction: 'counter',
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
            : { store: new FileObjectStore(dirname(target)), key: basename(target) },
        startedAt,
        reduce: options.reduce,
      },
    );
  } finally {
    bar?.stop();
    await runner?.close();
    removeScratch();
    process.removeListener('exit', removeScratch);
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
  }
}
