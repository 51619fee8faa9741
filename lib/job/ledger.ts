/**
 * The job ledger of queue coordination: the article's shared data under a lock, as
 * objects under jobs/ID/attempts/ATTEMPT/ written with S3 conditional writes. Besides
 * job.json (what the tasks need to go from phase to phase) and counts.tsv (the counts
 * staged for publishing), every transition is one conditional write with a name:
 *
 *   start        phases/map.json        the job's map tasks were planned
 *   commit       commits/PHASE/N.json   task N of a phase is done (If-None-Match: a
 *                                      duplicate finds the commit and only acknowledges)
 *   phaseLease   phases/NEXT.lease      the task that completes a phase starts the next
 *                                      under a lease (one holder; one that died is taken
 *                                      over when its message comes back)
 *   recordPhase  phases/NEXT.json       what the holder planned, then that it sent all
 *
 * S3 listing is strongly consistent, so counting a phase's commits after writing one's
 * own tells whether the phase is complete.
 */

import type { z } from 'zod';
import { mapLimit } from '../concurrency.js';
import { parsePayload, type TaskRequest, TaskRequestSchema } from '../contracts.js';
import {
  ConditionalConflictError,
  ObjectNotFoundError,
  PreconditionFailedError,
} from '../errors.js';
import { attemptPrefix } from '../keys.js';
import type { ObjectStore } from '../ports.js';
import {
  type PhaseRecord,
  PhaseRecordSchema,
  type QueuedJob,
  QueuedJobSchema,
  type TaskPhase,
} from '../queue-contracts.js';
import { Lease } from './lease.js';

export type PhaseName = TaskPhase | 'publish';

/** The watchdog's record of a stalled attempt (see watchdog.ts). */
export interface WatchRecord {
  phase: TaskPhase;
  /** Times it sent the phase's lost tasks again (or started the next phase) without progress since. */
  resends: number;
  /** When it last did. */
  at: string;
}

const READ_CONCURRENCY = 16;
const decoder = new TextDecoder();
const json = { contentType: 'application/json' };

export class JobLedger {
  private readonly folder: string;

  constructor(
    readonly store: ObjectStore,
    readonly jobId: string,
    readonly attempt: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.folder = attemptPrefix(jobId, attempt);
  }

  /** Where this attempt keeps everything; also its scratch prefix (map/, reduce/, final/). */
  get prefix(): string {
    return this.folder;
  }

  private async read(key: string): Promise<unknown | undefined> {
    try {
      return JSON.parse(decoder.decode(await this.store.get(key)));
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return undefined;
      throw error;
    }
  }

  /** A conditional create, retried while S3 reports a racing write; false if it exists. */
  private async create(key: string, body: string): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.store.put(key, body, { ...json, ifNoneMatch: true });
        return true;
      } catch (error) {
        if (error instanceof PreconditionFailedError) return false;
        if (!(error instanceof ConditionalConflictError) || attempt >= 8) throw error;
        await new Promise((r) => setTimeout(r, Math.random() * 20 * 2 ** attempt));
      }
    }
  }

  async writeJob(job: QueuedJob): Promise<void> {
    await this.store.put(`${this.folder}job.json`, JSON.stringify(job), json);
  }

  async readJob(): Promise<QueuedJob | undefined> {
    const key = `${this.folder}job.json`;
    const value = await this.read(key);
    return value === undefined ? undefined : parsePayload(QueuedJobSchema, value, key);
  }

  /** Where the attempt stages its counts file until it publishes. */
  stagedCountsKey(): string {
    return `${this.folder}counts.tsv`;
  }

  private phaseKey(phase: PhaseName): string {
    return `${this.folder}phases/${phase}.json`;
  }

  async phase(phase: PhaseName): Promise<PhaseRecord | undefined> {
    const value = await this.read(this.phaseKey(phase));
    return value === undefined
      ? undefined
      : parsePayload(PhaseRecordSchema, value, this.phaseKey(phase));
  }

  /**
   * The lease on starting `phase`: the task that completes the phase before takes it,
   * so of several finishing at once exactly one starts the next; a holder that died
   * (silent for two heartbeat periods) is taken over by its message's redelivery.
   */
  phaseLease(phase: PhaseName, owner: string, periodMs?: number): Lease {
    return new Lease(this.store, `${this.folder}phases/${phase}.lease`, owner, {
      periodMs,
      now: this.now,
      detail: `starting the ${phase} phase of job ${this.jobId}`,
    });
  }

  /** Records what the holder of the phase's claim planned (before sending), then that it sent all. */
  async recordPhase(phase: PhaseName, record: PhaseRecord): Promise<void> {
    await this.store.put(this.phaseKey(phase), JSON.stringify(record), json);
  }

  private commitKey(phase: TaskPhase, index: number): string {
    return `${this.folder}commits/${phase}/${index}.json`;
  }

  /** Commits a task's result; false when a duplicate committed it first. */
  async commit(phase: TaskPhase, index: number, result: unknown): Promise<boolean> {
    return this.create(this.commitKey(phase, index), JSON.stringify(result));
  }

  async isCommitted(phase: TaskPhase, index: number): Promise<boolean> {
    try {
      await this.store.head(this.commitKey(phase, index));
      return true;
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return false;
      throw error;
    }
  }

  /** How many tasks of `phase` have committed (a strongly consistent listing). */
  async committed(phase: TaskPhase): Promise<number> {
    return (await this.commits(phase)).count;
  }

  /** Which tasks of `phase` committed, and when the last one did. */
  async commits(phase: TaskPhase): Promise<{ count: number; indexes: Set<number>; lastAt?: Date }> {
    const folder = `${this.folder}commits/${phase}/`;
    const indexes = new Set<number>();
    let lastAt: Date | undefined;
    for await (const info of this.store.list(folder)) {
      indexes.add(Number(info.key.slice(folder.length, -'.json'.length)));
      if (info.modifiedAt && (!lastAt || info.modifiedAt > lastAt)) lastAt = info.modifiedAt;
    }
    return { count: indexes.size, indexes, ...(lastAt && { lastAt }) };
  }

  /**
   * Keeps every request of a phase (one JSON line each, in task order) before any is
   * sent: what the watchdog sends again when messages were lost.
   */
  async putPhaseRequests(phase: TaskPhase, requests: readonly TaskRequest[]): Promise<void> {
    await this.store.put(
      `${this.folder}requests/${phase}.ndjson`,
      requests.map((r) => `${JSON.stringify(r)}\n`),
      { contentType: 'application/x-ndjson' },
    );
  }

  async phaseRequests(phase: TaskPhase): Promise<TaskRequest[]> {
    const key = `${this.folder}requests/${phase}.ndjson`;
    const text = decoder.decode(await this.store.get(key));
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line, i) => parsePayload(TaskRequestSchema, JSON.parse(line), `${key} line ${i + 1}`));
  }

  /** A delivery of a task began to run it (what tells a run from a throttled receive). */
  async recordRun(phase: TaskPhase, index: number, run: string): Promise<void> {
    await this.store.put(
      `${this.folder}runs/${phase}/${index}/${run}.json`,
      JSON.stringify({ at: this.now().toISOString() }),
      json,
    );
  }

  /** How many deliveries of a task began to run it. */
  async runs(phase: TaskPhase, index: number): Promise<number> {
    let n = 0;
    for await (const _ of this.store.list(`${this.folder}runs/${phase}/${index}/`)) n++;
    return n;
  }

  /** What the watchdog did about this attempt: how many times it sent lost tasks again. */
  async watch(): Promise<WatchRecord | undefined> {
    return (await this.read(`${this.folder}watch.json`)) as WatchRecord | undefined;
  }

  async recordWatch(record: WatchRecord): Promise<void> {
    await this.store.put(`${this.folder}watch.json`, JSON.stringify(record), json);
  }

  /** The results of tasks 0..count-1 of `phase`, in task order. */
  async results<T>(phase: TaskPhase, count: number, schema: z.ZodType<T>): Promise<T[]> {
    const indexes = Array.from({ length: count }, (_, i) => i);
    return mapLimit(indexes, READ_CONCURRENCY, async (i) => {
      const key = this.commitKey(phase, i);
      const value = await this.read(key);
      if (value === undefined) throw new ObjectNotFoundError(this.store.uri(key), 'no such commit');
      return parsePayload(schema, value, `result of ${phase} task ${i}`);
    });
  }

  /** Keeps a task request too big for a message; returns its key. */
  async putRequest(phase: TaskPhase, index: number, request: TaskRequest): Promise<string> {
    const key = `${this.folder}requests/${phase}/${index}.json`;
    await this.store.put(key, JSON.stringify(request), json);
    return key;
  }

  async getRequest(key: string): Promise<TaskRequest> {
    const value = await this.read(key);
    if (value === undefined)
      throw new ObjectNotFoundError(this.store.uri(key), 'no such task request');
    return parsePayload(TaskRequestSchema, value, key);
  }

  private errorKey(phase: TaskPhase, index: number): string {
    return `${this.folder}errors/${phase}-${index}.json`;
  }

  /** The last error of a task, for the dead letter that fails the job. */
  async recordError(phase: TaskPhase, index: number, message: string): Promise<void> {
    await this.store.put(this.errorKey(phase, index), JSON.stringify({ message }), json);
  }

  async lastError(phase: TaskPhase, index: number): Promise<string | undefined> {
    const value = (await this.read(this.errorKey(phase, index))) as
      | { message?: string }
      | undefined;
    return value?.message;
  }
}
