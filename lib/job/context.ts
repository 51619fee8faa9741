/** What the phases of one job share: the ports, the request, and its progress. */
import type { z } from 'zod';
import type { FinalizeResult, MapResult, ReduceResult } from '../contracts.js';
import type { CostSetup } from '../cost/job-cost.js';
import { addUsage, type TaskUsage, type UsageTally } from '../cost/usage.js';
import { JobFailedError, messageOf } from '../errors.js';
import type { Log } from '../log.js';
import type { MapTaskPlan, SourceObject } from '../plan.js';
import type { FunctionRunner, ObjectStore } from '../ports.js';
import type { Mode } from '../tokenize.js';
import type { CountsTarget } from './finalize.js';

export type JobPhase = 'map' | 'reduce' | 'finalize';

export interface JobProgress {
  phase: JobPhase;
  tasksDone: number;
  tasks: number;
  /** Map phase: stored bytes of the finished tasks, and of all. */
  bytesDone: number;
  bytes: number;
}

export interface JobDeps {
  /** Where the job's objects are. */
  sources: ObjectStore;
  /** Scratch for spilled partials, shards and parts, under `JobSpec.workPrefix`. */
  work: ObjectStore;
  runner: FunctionRunner;
  /** The name the runner knows the task function by (every task type). */
  taskFunction: string;
  onProgress?: (progress: JobProgress) => void;
  /** Reckon the job's cost (the summary's `cost`). */
  cost?: CostSetup;
  /** Told of each phase as it starts. */
  log?: Log;
}

/** What the task function's use is tallied as, whatever the runner calls it. */
export const TASK_FUNCTION = 'counter';

export interface JobSpec {
  /** The job's id, where it has one: task requests carry it into their functions' logs. */
  jobId?: string;
  /** The input as the summary names it: a URI, and a version that changes with any object. */
  source: { uri: string; etag: string };
  /** The objects, listed (sizes and versions; content unread). */
  objects: readonly SourceObject[];
  mode: Mode;
  /** Bytes per map task; chosen from the size and concurrency when absent. */
  chunkSize?: number;
  /** Tasks in flight at once. */
  concurrency: number;
  top: number;
  /** The bucket task requests name (S3 backends). */
  bucket?: string;
  /** Work-store keys of this job start with this. */
  workPrefix: string;
  /** A map result whose JSON is bigger than this spills to the work store. */
  inlineLimitBytes: number;
  /** Where the counts file goes; absent when only the summary is wanted. */
  counts?: CountsTarget;
  /** `performance.now()` when the job was asked for; elapsedMs counts from it. */
  startedAt?: number;
  /** For measuring: merge inline (counters never spill) or always partition. */
  reduce?: 'auto' | 'inline' | 'partitioned';
  /**
   * Worker pools: each thread keeps its map tasks' counts in one table and hands it back
   * once, at the end of the map phase (the local CLI; a dead thread then fails the job).
   */
  holdCounts?: boolean;
  /** Distinct words the driver merges inline before it spills them (INLINE_MAX_DISTINCT). */
  inlineMaxDistinct?: number;
  /** Called once the tasks are planned, before any runs. */
  onPlan?: (plan: {
    chunkSize: number;
    partitions: number;
    tasks: readonly MapTaskPlan[];
  }) => Promise<void> | void;
  /** Called as each map task finishes. */
  onMapTask?: (task: MapTaskPlan, result: MapResult) => void;
  /** Stops the job: no task is sent after it fires; the job fails with its reason. */
  signal?: AbortSignal;
}

/** A planned job on its way: what every phase reads, and the progress they all report. */
export interface JobContext {
  deps: JobDeps;
  spec: JobSpec;
  chunkSize: number;
  /** The job's hash partitions P. */
  partitions: number;
  progress: JobProgress;
  /** What the tasks used so far. */
  usage: UsageTally;
}

export function report(ctx: JobContext): void {
  ctx.deps.onProgress?.({ ...ctx.progress });
}

/** Starts a phase of `tasks` tasks. */
export function startPhase(ctx: JobContext, phase: JobPhase, tasks: number): void {
  Object.assign(ctx.progress, { phase, tasksDone: 0, tasks });
  logPhase(ctx);
  report(ctx);
}

/** One log line per phase: which, and how many tasks. */
export function logPhase(ctx: JobContext): void {
  const { phase, tasks } = ctx.progress;
  const { jobId } = ctx.spec;
  ctx.deps.log?.(`${jobId ? `job ${jobId}: ` : ''}${phase} phase: ${tasks} task(s)`, {
    jobId,
    phase,
    tasks,
  });
}

/** Throws when the job was stopped (see JobSpec.signal). */
export function checkStopped(ctx: JobContext): void {
  const { signal } = ctx.spec;
  if (signal?.aborted) {
    throw new JobFailedError(
      `stopped: ${signal.reason instanceof Error ? signal.reason.message : String(signal.reason)}`,
    );
  }
}

/** What each type of task answers. */
export interface TaskResults {
  map: MapResult;
  reduce: ReduceResult;
  finalize: FinalizeResult;
}

/**
 * Runs one task through the task function and parses its result (unless the runner is
 * trusted: worker threads running this code); a failure (the
 * function's, or a result that does not parse) fails the job naming `what`. Nothing is
 * sent once the job was stopped.
 */
export async function invokeTask<K extends keyof TaskResults>(
  ctx: JobContext,
  request: { type: K },
  what: string,
): Promise<TaskResults[K]> {
  checkStopped(ctx);
  try {
    const { runner } = ctx.deps;
    const { jobId } = ctx.spec;
    const reply = await runner.invoke(
      ctx.deps.taskFunction,
      jobId === undefined ? request : { ...request, jobId },
    );
    let result: TaskResults[K];
    if (runner.trusted) result = reply as TaskResults[K];
    else {
      // The schemas (and zod) load only for results that cross a process boundary.
      const contracts = await import('../contracts.js');
      const schema = {
        map: contracts.MapResultSchema,
        reduce: contracts.ReduceResultSchema,
        finalize: contracts.FinalizeResultSchema,
      }[request.type] as unknown as z.ZodType<TaskResults[K]>;
      result = contracts.parsePayload(schema, reply, 'task result');
    }
    const usage = (result as { usage?: TaskUsage }).usage;
    if (usage) addUsage(ctx.usage, TASK_FUNCTION, usage);
    return result;
  } catch (error) {
    throw new JobFailedError(`${what} failed: ${messageOf(error)}`, { cause: error });
  }
}
