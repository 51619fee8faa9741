/**
 * What a function used for one task or one job's driving: its own measured duration,
 * its configured memory (GB-seconds are the two multiplied, as Lambda bills), and the
 * requests it made. Tallied per function name over a job.
 */
import { addRequests, type RequestCounts, type RequestMeter, since } from './request-meter.js';

export interface TaskUsage {
  /** Milliseconds the function worked on it, rounded up (Lambda bills per 1 ms). */
  billedMs: number;
  /** Configured memory; 0 where there is none (a worker thread). */
  memoryMb: number;
  requests: RequestCounts;
  /** Deliveries of the task before this one (a redelivered queue message). */
  retries?: number;
}

export interface FunctionUsage {
  invocations: number;
  billedMs: number;
  gbSeconds: number;
}

/** A job's usage so far: what its phase records carry (queue) and the summary's cost reads. */
export interface UsageTally {
  functions: Record<string, FunctionUsage>;
  requests: RequestCounts;
  /** Task invocations that ran again: the driver's retries, redelivered messages. */
  retries: number;
}

export const emptyTally = (): UsageTally => ({ functions: {}, requests: {}, retries: 0 });

/** The entry of `fn` in `tally`, made empty on first use. */
function functionIn(tally: UsageTally, fn: string): FunctionUsage {
  let entry = tally.functions[fn];
  if (!entry) {
    entry = { invocations: 0, billedMs: 0, gbSeconds: 0 };
    tally.functions[fn] = entry;
  }
  return entry;
}

/** Starts measuring; the returned function says what was used since. */
export function startUsage(meter: RequestMeter, memoryMb: number): () => TaskUsage {
  const started = performance.now();
  const before = meter.snapshot();
  return () => ({
    billedMs: Math.max(1, Math.ceil(performance.now() - started)),
    memoryMb,
    requests: since(meter.snapshot(), before),
  });
}

/** Starts CPU time of this process (every thread); the returned function says the seconds since. */
export function startCpu(): () => number {
  const before = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1e6;
  };
}

/**
 * Counts `usage` of `fn` into `tally`: one invocation, or none for more work in an
 * invocation already counted (a queue task that went on to start the next phase).
 */
export function addUsage(
  tally: UsageTally,
  fn: string,
  usage: TaskUsage,
  invocations = 1,
): UsageTally {
  const entry = functionIn(tally, fn);
  entry.invocations += invocations;
  tally.retries += usage.retries ?? 0;
  entry.billedMs += usage.billedMs;
  entry.gbSeconds += (usage.billedMs / 1000) * (usage.memoryMb / 1024);
  addRequests(tally.requests, usage.requests);
  return tally;
}

/** Adds tally `more` into `into`. */
export function mergeTally(into: UsageTally, more: UsageTally): UsageTally {
  for (const [fn, entry] of Object.entries(more.functions)) {
    const sum = functionIn(into, fn);
    sum.invocations += entry.invocations;
    sum.billedMs += entry.billedMs;
    sum.gbSeconds += entry.gbSeconds;
  }
  addRequests(into.requests, more.requests);
  into.retries += more.retries;
  return into;
}
