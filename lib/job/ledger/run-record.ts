/**
 * The status record of an RPC run while it counts: its planned map tasks, and its tasks
 * done at each new phase and every few seconds, each a compare-and-swap that names the
 * run's attempt (a write that comes after the run ended, or was taken over, changes
 * nothing). One write at a time; the last progress is written before the run publishes.
 */
import type { JobStatus } from '../../contracts/status.js';
import { messageOf } from '../../errors.js';
import type { Log } from '../../log.js';
import type { ObjectStore } from '../../ports.js';
import type { JobProgress } from '../phases/job-progress.js';
import { updateAttempt } from './status.js';

/** Progress is recorded this often at most (and at every new phase). */
const EVERY_MS = 5000;

export class RunRecord {
  private readonly tasks: JobStatus['tasks'] = { map: 0, mapDone: 0, reduce: 0, reduceDone: 0 };
  private phase = '';
  private writtenAt = 0;
  private changed = false;
  private writing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: { store: ObjectStore; now?: () => Date; log?: Log },
    readonly jobId: string,
    readonly attempt: string,
  ) {}

  /** The map phase was planned: its tasks. */
  async planned(mapTasks: number): Promise<void> {
    this.tasks.map = mapTasks;
    this.changed = true;
    await this.write();
  }

  /** A task finished: recorded at a new phase, else every few seconds. */
  progress(p: JobProgress): void {
    if (p.phase === 'map') this.tasks.mapDone = p.tasksDone;
    else if (p.phase === 'reduce')
      Object.assign(this.tasks, { reduce: p.tasks, reduceDone: p.tasksDone });
    this.changed = true;
    const at = Date.now();
    if (p.phase === this.phase && at - this.writtenAt < EVERY_MS) return;
    this.phase = p.phase;
    this.writtenAt = at;
    this.writing = this.writing.then(() => this.write());
  }

  /** Records what changed since the last write, and waits for it. */
  async flush(): Promise<void> {
    this.writing = this.writing.then(() => this.write());
    await this.writing;
  }

  private async write(): Promise<void> {
    if (!this.changed) return;
    this.changed = false;
    const tasks = { ...this.tasks };
    await updateAttempt(this.deps, this.jobId, this.attempt, (s) => {
      s.tasks = tasks;
    }).catch((error: unknown) =>
      this.deps.log?.(`job ${this.jobId}: could not record progress: ${messageOf(error)}`, {
        jobId: this.jobId,
      }),
    );
  }
}
