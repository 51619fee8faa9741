/** Jobs on the embedded backend for tests: real files, a real worker pool, scratch dirs. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileObjectStore } from '../../lib/adapters/file-store.js';
import { heldCountsMapPhase } from '../../lib/adapters/worker-pool/held-map-phase.js';
import { WorkerPoolRunner } from '../../lib/adapters/worker-pool/runner.js';
import type { Summary } from '../../lib/contracts/summary.js';
import type { JobDeps, JobSpec } from '../../lib/job/rpc/job-context.js';
import { runJob } from '../../lib/job/rpc/run-phases.js';
import { inputEtag } from '../../lib/keys.js';
import type { SourceObject } from '../../lib/plan.js';
import type { Mode } from '../../lib/tokenize.js';
import { taskWorkerScript } from './workers.js';

export interface EmbeddedRun {
  summary: Summary;
  tsv: string;
}

/** A worker pool over the whole file system (keys are absolute paths without the slash). */
export class Embedded {
  readonly sources = new FileObjectStore('/');

  private constructor(
    readonly runner: WorkerPoolRunner,
    readonly scratch: string,
    private readonly held: boolean,
  ) {}

  /** `held`: the pool as the local CLI runs it (each thread holds its map tasks' counts). */
  static async create(
    size: number,
    options: { held?: boolean; script?: URL } = {},
  ): Promise<Embedded> {
    const scratch = await mkdtemp(join(tmpdir(), 'wordcount-embedded-'));
    const runner = new WorkerPoolRunner({
      size,
      script: options.script ?? taskWorkerScript(),
      inProcess: options.held,
      // Keys everywhere are absolute paths: sources, spilled partials and shards.
      workerData: { sourceRoot: '/', workRoot: '/' },
    });
    return new Embedded(runner, scratch, options.held === true);
  }

  async objects(paths: readonly string[]): Promise<SourceObject[]> {
    return Promise.all(paths.map((p) => this.sources.head(p.slice(1))));
  }

  /** Counts `paths` as one job and returns its summary and counts file. */
  async count(
    paths: readonly string[],
    options: Partial<Omit<JobSpec, 'objects' | 'source' | 'workPrefix' | 'counts'>> & {
      mode: Mode;
      /** Told as tasks end. */
      onProgress?: JobDeps['onProgress'];
    },
  ): Promise<EmbeddedRun> {
    const objects = await this.objects(paths);
    const job = await mkdtemp(join(this.scratch, 'job-'));
    try {
      const { onProgress, ...spec } = options;
      const summary = await runJob(
        {
          sources: this.sources,
          work: this.sources,
          runner: this.runner,
          taskFunction: 'counter',
          onProgress,
          ...(this.held && { mapPhase: heldCountsMapPhase(this.runner, 'counter') }),
        },
        {
          concurrency: this.runner.size,
          top: 5,
          inlineLimitBytes: 1 << 20,
          ...spec,
          source: { uri: paths.join(' '), etag: inputEtag(objects) },
          objects,
          workPrefix: `${job.slice(1)}/`,
          counts: { store: this.sources, key: `${job.slice(1)}/counts.tsv` },
        },
      );
      return { summary, tsv: await readFile(join(job, 'counts.tsv'), 'utf8') };
    } finally {
      await rm(job, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    await this.runner.close();
    await rm(this.scratch, { recursive: true, force: true });
  }
}
