/**
 * The ledger of one attempt of a queued job: the article's shared data under a lock, as
 * objects under jobs/ID/attempts/ATTEMPT/ written with S3 conditional writes. Besides
 * job.json (what the tasks need to go from phase to phase) and counts.tsv (the counts
 * staged for publishing), every transition is one write with a name:
 *
 *   recordPhase  phases/P.json        what the starter of phase P planned (before any
 *                                     task is sent), then that it sent them all
 *   phaseLease   phases/P.lease       the task that completes a phase starts the next
 *                                     under a lease (one holder; one that died is taken
 *                                     over when its message comes back)
 *   commit       commits/P/G/N.json   task N of phase P is done (If-None-Match: a
 *                                     duplicate finds the commit and only acknowledges),
 *                                     in group G = N / COMMIT_GROUP
 *   phaseComplete groups/P/G.json     every task of group G committed (see phaseComplete)
 *   recordRun    runs/P/N/…           a delivery began to run task N (a throttled receive
 *                                     records none: what the dead-letter handler counts)
 *   recordError  errors/P-N.json      task N's last error, for the dead letter
 *   recordStepError errors/after-P.json the last error of the step after phase P (the
 *                                     next phase's start, or publish), for the watchdog
 *   recordWatch  watch.json           what the watchdog sent again
 *
 * S3 listing is strongly consistent, so counting a group's commits after writing one's
 * own, then the complete groups, tells whether the phase is complete. Keys are keys.ts's
 * `ledgerKeys`.
 */
import type { z } from 'zod';
import { backoff } from '../../backoff.js';
import { inOrder } from '../../concurrency.js';
import { parsePayload } from '../../contracts/parse.js';
import {
  type PhaseRecord,
  PhaseRecordSchema,
  type QueuedJob,
  QueuedJobSchema,
  type TaskPhase,
} from '../../contracts/queue.js';
import { type TaskRequest, TaskRequestSchema } from '../../contracts/tasks.js';
import {
  ConditionalConflictError,
  ObjectNotFoundError,
  PreconditionFailedError,
} from '../../errors.js';
import { attemptPrefix, COMMIT_GROUP, ledgerKeys } from '../../keys.js';
import type { ObjectStore } from '../../ports.js';
import { readJson, writeJson } from '../../stored-json.js';
import { Lease } from './lease.js';

export type PhaseName = TaskPhase | 'publish';

/** The watchdog's record of a stalled attempt (see watchdog.ts). */
export interface WatchRecord {
  phase: TaskPhase;
  /** Times it sent the phase's lost tasks again (or started the next phase) without progress since. */
  resends: number;
  /** When it last did. */
  at: string;
  /** Why its last try at the step after a complete phase failed. */
  error?: string;
}

/** Commits read at once: a step that reads 100,000 of them at ~20 ms each takes about a minute. */
const READ_CONCURRENCY = 32;
const decoder = new TextDecoder();

export class JobLedger {
  /** Where this attempt keeps everything; also its scratch prefix (map/, reduce/, final/). */
  readonly prefix: string;

  constructor(
    readonly store: ObjectStore,
    readonly jobId: string,
    readonly attempt: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.prefix = attemptPrefix(jobId, attempt);
  }

  /** A conditional create, retried while S3 reports a racing write; false if it exists. */
  private async create(key: string, value: unknown): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await writeJson(this.store, key, value, { ifNoneMatch: true });
        return true;
      } catch (error) {
        if (error instanceof PreconditionFailedError) return false;
        if (!(error instanceof ConditionalConflictError) || attempt >= 8) throw error;
        await backoff(attempt);
      }
    }
  }

  async writeJob(job: QueuedJob): Promise<void> {
    await writeJson(this.store, ledgerKeys.job(this.prefix), job);
  }

  async readJob(): Promise<QueuedJob | undefined> {
    const key = ledgerKeys.job(this.prefix);
    const value = await readJson(this.store, key);
    return value === undefined ? undefined : parsePayload(QueuedJobSchema, value, key);
  }

  /** Where the attempt stages its counts file until it publishes. */
  stagedCountsKey(): string {
    return ledgerKeys.counts(this.prefix);
  }

  async phase(phase: PhaseName): Promise<PhaseRecord | undefined> {
    const key = ledgerKeys.phase(this.prefix, phase);
    const value = await readJson(this.store, key);
    return value === undefined ? undefined : parsePayload(PhaseRecordSchema, value, key);
  }

  /**
   * The lease on starting `phase`: the task that completes the phase before takes it,
   * so of several finishing at once exactly one starts the next; a holder that died
   * (silent for two heartbeat periods) is taken over by its message's redelivery.
   */
  phaseLease(phase: PhaseName, owner: string, periodMs?: number): Lease {
    return new Lease(this.store, ledgerKeys.phaseLease(this.prefix, phase), owner, {
      periodMs,
      now: this.now,
      detail: `starting the ${phase} phase of job ${this.jobId}`,
    });
  }

  /** Records what the holder of the phase's lease planned (before sending), then that it sent all. */
  async recordPhase(phase: PhaseName, record: PhaseRecord): Promise<void> {
    await writeJson(this.store, ledgerKeys.phase(this.prefix, phase), record);
  }

  /** Commits a task's result; false when a duplicate committed it first. */
  async commit(phase: TaskPhase, index: number, result: unknown): Promise<boolean> {
    return this.create(ledgerKeys.commit(this.prefix, phase, index), result);
  }

  async isCommitted(phase: TaskPhase, index: number): Promise<boolean> {
    try {
      await this.store.head(ledgerKeys.commit(this.prefix, phase, index));
      return true;
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return false;
      throw error;
    }
  }

  /**
   * Whether every one of the `tasks` tasks of `phase` committed, as seen by a task that
   * has just committed task `index`: it lists its group's commits (one page); when the
   * group is complete it marks it (a duplicate mark is harmless) and lists the marks (one
   * page up to 1,000 groups). The last task of a group to commit sees the group complete,
   * and the last to mark a group sees every mark, so a complete phase is always seen, in
   * work linear in the tasks. Without `index` (the watchdog), every unmarked group is
   * looked at.
   */
  async phaseComplete(phase: TaskPhase, tasks: number, index?: number): Promise<boolean> {
    const groups = Math.ceil(tasks / COMMIT_GROUP);
    if (index !== undefined) {
      if (!(await this.markGroup(phase, Math.floor(index / COMMIT_GROUP), tasks))) return false;
      return (await this.markedGroups(phase)).size >= groups;
    }
    const marked = await this.markedGroups(phase);
    for (let group = 0; group < groups; group++) {
      if (!marked.has(group) && !(await this.markGroup(phase, group, tasks))) return false;
    }
    return true;
  }

  /** Marks `group` complete if all its tasks committed; whether it is. */
  private async markGroup(phase: TaskPhase, group: number, tasks: number): Promise<boolean> {
    const size = Math.min(COMMIT_GROUP, tasks - group * COMMIT_GROUP);
    let committed = 0;
    for await (const _ of this.store.list(ledgerKeys.commitGroup(this.prefix, phase, group))) {
      committed++;
    }
    if (committed < size) return false;
    await this.create(ledgerKeys.group(this.prefix, phase, group), { tasks: committed });
    return true;
  }

  private async markedGroups(phase: TaskPhase): Promise<Set<number>> {
    const folder = ledgerKeys.groups(this.prefix, phase);
    const marked = new Set<number>();
    for await (const info of this.store.list(folder)) {
      marked.add(Number(info.key.slice(folder.length, -'.json'.length)));
    }
    return marked;
  }

  /**
   * Which tasks of `phase` committed, and when the last one did (a strongly consistent
   * listing of every commit: the watchdog's and the status view's, not the fan-in's).
   */
  async commits(phase: TaskPhase): Promise<{ count: number; indexes: Set<number>; lastAt?: Date }> {
    const folder = ledgerKeys.commits(this.prefix, phase);
    const indexes = new Set<number>();
    let lastAt: Date | undefined;
    for await (const info of this.store.list(folder)) {
      indexes.add(Number(info.key.slice(info.key.lastIndexOf('/') + 1, -'.json'.length)));
      if (info.modifiedAt && (!lastAt || info.modifiedAt > lastAt)) lastAt = info.modifiedAt;
    }
    return { count: indexes.size, indexes, ...(lastAt && { lastAt }) };
  }

  /**
   * The results of tasks 0..count-1 of `phase`, in task order, READ_CONCURRENCY read
   * ahead: a consumer that uses each as it comes holds at most that many at once.
   */
  eachResult<T>(phase: TaskPhase, count: number, schema: z.ZodType<T>): AsyncGenerator<T> {
    return inOrder(count, READ_CONCURRENCY, async (i) => {
      const key = ledgerKeys.commit(this.prefix, phase, i);
      const value = await readJson(this.store, key);
      if (value === undefined) throw new ObjectNotFoundError(this.store.uri(key), 'no such commit');
      return parsePayload(schema, value, `result of ${phase} task ${i}`);
    });
  }

  /** Every result of a phase whose tasks are few (reduce, finalize: at most P), in task order. */
  async results<T>(phase: TaskPhase, count: number, schema: z.ZodType<T>): Promise<T[]> {
    const all: T[] = [];
    for await (const result of this.eachResult(phase, count, schema)) all.push(result);
    return all;
  }

  /**
   * Keeps every request of a phase (one JSON line each, in task order) before any is
   * sent: what the watchdog sends again when messages were lost.
   */
  async putPhaseRequests(phase: TaskPhase, requests: readonly TaskRequest[]): Promise<void> {
    await this.store.put(
      ledgerKeys.phaseRequests(this.prefix, phase),
      requests.map((r) => `${JSON.stringify(r)}\n`),
      { contentType: 'application/x-ndjson' },
    );
  }

  async phaseRequests(phase: TaskPhase): Promise<TaskRequest[]> {
    const key = ledgerKeys.phaseRequests(this.prefix, phase);
    return decoder
      .decode(await this.store.get(key))
      .split('\n')
      .filter((line) => line !== '')
      .map((line, i) => parsePayload(TaskRequestSchema, JSON.parse(line), `${key} line ${i + 1}`));
  }

  /** Keeps a task request too big for a message; returns its key. */
  async putRequest(phase: TaskPhase, index: number, request: TaskRequest): Promise<string> {
    const key = ledgerKeys.taskRequest(this.prefix, phase, index);
    await writeJson(this.store, key, request);
    return key;
  }

  async getRequest(key: string): Promise<TaskRequest> {
    const value = await readJson(this.store, key);
    if (value === undefined) {
      throw new ObjectNotFoundError(this.store.uri(key), 'no such task request');
    }
    return parsePayload(TaskRequestSchema, value, key);
  }

  /** A delivery of a task began to run it (what tells a run from a throttled receive). */
  async recordRun(phase: TaskPhase, index: number, run: string): Promise<void> {
    await writeJson(this.store, `${ledgerKeys.runs(this.prefix, phase, index)}${run}.json`, {
      at: this.now().toISOString(),
    });
  }

  /** How many deliveries of a task began to run it. */
  async runs(phase: TaskPhase, index: number): Promise<number> {
    let n = 0;
    for await (const _ of this.store.list(ledgerKeys.runs(this.prefix, phase, index))) n++;
    return n;
  }

  /** The last error of a task, for the dead letter that fails the job. */
  async recordError(phase: TaskPhase, index: number, message: string): Promise<void> {
    await writeJson(this.store, ledgerKeys.lastError(this.prefix, phase, index), { message });
  }

  async lastError(phase: TaskPhase, index: number): Promise<string | undefined> {
    const value = (await readJson(this.store, ledgerKeys.lastError(this.prefix, phase, index))) as
      | { message?: string }
      | undefined;
    return value?.message;
  }

  /** The step after `phase` failed: kept for the reason the job fails with if it never succeeds. */
  async recordStepError(phase: TaskPhase, message: string): Promise<void> {
    await writeJson(this.store, ledgerKeys.stepError(this.prefix, phase), { message });
  }

  async stepError(phase: TaskPhase): Promise<string | undefined> {
    const value = (await readJson(this.store, ledgerKeys.stepError(this.prefix, phase))) as
      | { message?: string }
      | undefined;
    return value?.message;
  }

  /** What the watchdog did about this attempt: how many times it sent lost tasks again. */
  async watch(): Promise<WatchRecord | undefined> {
    return (await readJson(this.store, ledgerKeys.watch(this.prefix))) as WatchRecord | undefined;
  }

  async recordWatch(record: WatchRecord): Promise<void> {
    await writeJson(this.store, ledgerKeys.watch(this.prefix), record);
  }
}
