/** What the phases of one job share: the ports, the request, and its progress. */
import type { z } from 'zod';
import type { RecordOptions } from '../../contracts/records.js';
import type { FinalizeResult, MapRequest, ReduceResult } from '../../contracts/tasks.js';
import type { CostSetup } from '../../cost/job-cost.js';
import { addUsage, type TaskUsage, type UsageTally } from '../../cost/usage.js';
import { JobFailedError, messageOf } from '../../errors.js';
import type { Log } from '../../log.js';
import type { MapTaskPlan, SourceObject } from '../../plan.js';
import type { FunctionRunner, ObjectStore } from '../../ports.js';
import type { Mode } from '../../tokenize.js';
import type { JobPhase, JobProgress } from '../phases/job-progress.js';
import type { MapResults } from '../phases/map-results.js';
import { TASK_FUNCTION } from '../phases/summary.js';
import type { CountsTarget } from '../tasks/finalize-task.js';

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
  /** Runs the map phase this backend's own way (default: each task through `runner`). */
  mapPhase?: MapPhaseRunner;
}

export interface JobSpec {
  /** The job's id, where it has one: task requests carry it into their functions' logs. */
  jobId?: string;
  /** The input as the summary names it: a URI, and a version that changes with any object. */
  source: { uri: string; etag: string };
  /** The objects, listed (sizes and versions; content unread). */
  objects: readonly SourceObject[];
  mode: Mode;
  /** How the objects are read: format, field, strict (defaults when absent). */
  records?: RecordOptions;
  /** Bytes per map task; chosen from the size and concurrency when absent. */
  chunkSize?: number;
  /** Tasks in flight at once. */
  concurrency: number;
  top: number;
  /**
   * Words counted fewer times are left out of the counts file and the top, after the
   * reduce (absent or 1: none); the summary's distinctWords still counts them.
   */
  minCount?: number;
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
  /** Distinct words the driver merges inline before it spills them (INLINE_MAX_DISTINCT). */
  maxInlineDistinct?: number;
  /** Called once the tasks are planned, before any runs. */
  onPlan?: (plan: {
    chunkSize: number;
    partitions: number;
    tasks: readonly MapTaskPlan[];
  }) => Promise<void> | void;
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

/**
 * Sends one task to the task function; a failure (the function's) fails the job naming
 * `what`. Nothing is sent once the job was stopped. The reply's usage is tallied.
 */
export async function invokeTask(ctx: JobContext, request: object, what: string): Promise<unknown> {
  checkStopped(ctx);
  try {
    const { jobId } = ctx.spec;
    const reply = await ctx.deps.runner.invoke(
      ctx.deps.taskFunction,
      jobId === undefined ? request : { ...request, jobId },
    );
    const usage = (reply as { usage?: TaskUsage } | undefined)?.usage;
    if (usage) addUsage(ctx.usage, TASK_FUNCTION, usage);
    return reply;
  } catch (error) {
    throw new JobFailedError(`${what} failed: ${messageOf(error)}`, { cause: error });
  }
}

/** What each type of task answers. */
export interface TaskResults {
  reduce: ReduceResult;
  finalize: FinalizeResult;
}

/** Runs a reduce or finalize task and parses its result (a result that does not parse fails the job). */
export async function invokeForResult<K extends keyof TaskResults>(
  ctx: JobContext,
  request: { type: K },
  what: string,
): Promise<TaskResults[K]> {
  const reply = await invokeTask(ctx, request, what);
  // The schemas (and zod) load only for results that cross a process boundary.
  const [tasks, { parsePayload }] = await Promise.all([
    import('../../contracts/tasks.js'),
    import('../../contracts/parse.js'),
  ]);
  const schema = {
    reduce: tasks.ReduceResultSchema,
    finalize: tasks.FinalizeResultSchema,
  }[request.type] as unknown as z.ZodType<TaskResults[K]>;
  try {
    return parsePayload(schema, reply, 'task result');
  } catch (error) {
    throw new JobFailedError(`${what} failed: ${messageOf(error)}`, { cause: error });
  }
}

/** What a way of running the map phase is given. */
export interface MapPhaseRun {
  tasks: readonly MapTaskPlan[];
  /** Where every task's totals and counts are merged. */
  results: MapResults;
  /** The request of a task, as this job asks it. */
  requestOf(task: MapTaskPlan): MapRequest;
  /** Where and how counts not of one task (`name`) are spilled, as map outputs are. */
  spillOf(name: string): MapRequest['spill'];
  /** Sends a request to the task function (its usage counted, the job's stop obeyed). */
  invoke(request: object, what: string): Promise<unknown>;
  /** Tells the job a task finished (its totals merged): progress. */
  finished(task: MapTaskPlan): void;
  describe(task: MapTaskPlan): string;
  /** Tasks in flight at most. */
  concurrency: number;
}

/** A way of running the map phase: each task through the task function, or a backend's own. */
export type MapPhaseRunner = (run: MapPhaseRun) => Promise<void>;
