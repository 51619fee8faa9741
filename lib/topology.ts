/**
 * The deployed stack's shape, in one place: what sst.config.ts deploys to AWS and what
 * scripts/local-stack deploys to an emulator read their functions' sizes and timeouts,
 * the queues' settings and the per-stage settings from here. Pure data and arithmetic:
 * sst.config.ts imports it while SST builds the app.
 */

/** The task function: one vCPU (Lambda gives CPU in proportion to memory; 1769 MB is one). */
export const COUNTER = { memoryMb: 1769, timeoutSeconds: 300, devTimeoutSeconds: 900 } as const;
/** Plans and starts jobs; with rpc coordination runs one to its end: Lambda's longest timeout. */
export const ORCHESTRATOR = { memoryMb: 3008, timeoutSeconds: 900 } as const;
export const DEAD_LETTERS = { memoryMb: 512, timeoutSeconds: 60 } as const;

/** Receives of a task message before it moves to the dead-letter queue. */
export const MAX_RECEIVES = 3;
/** How often the watchdog sweeps the active jobs (EventBridge's least rate is a minute). */
export const SWEEP_MINUTES = 5;
/** The watchdog's event, as the schedule sends it. */
export const SWEEP_EVENT = { watchdog: 'sweep' } as const;
/** Where uploads start jobs; nothing the system writes is under it. */
export const INPUT_PREFIX = 'input/';
/** Temporaries of jobs that died before removing them expire after this many days. */
export const JOBS_EXPIRE_DAYS = 7;
export const DEFAULT_CHUNK_SIZE = '16MiB';

/**
 * A message comes back when it is not acknowledged within the visibility timeout: twice
 * the counter's timeout, so it is never handed to a second counter while the first may
 * still run it.
 */
export const visibilitySeconds = (counterTimeoutSeconds: number) => 2 * counterTimeoutSeconds;

/** How long the orchestrator waits for one task (rpc): past the counter's own timeout. */
export const taskTimeoutSeconds = (counterTimeoutSeconds: number) => counterTimeoutSeconds + 30;

/**
 * How long a queued job may make no progress before the watchdog takes its messages for
 * lost: a task's timeout plus its redelivery (the visibility timeout), with room.
 */
export const stallSeconds = (counterTimeoutSeconds: number) =>
  3 * taskTimeoutSeconds(counterTimeoutSeconds);

export interface StageSettings {
  /** Counters at once: the queue mapping's maximumConcurrency, rpc's invocations in flight. */
  counters: number;
  /** Concurrency reserved for the counter; none by default (any account can deploy). */
  reservedConcurrency?: number;
  counterTimeoutSeconds: number;
  /** The Data bucket (users' inputs and outputs) survives `sst remove` unless this is false. */
  retainData: boolean;
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, min: number, max: number): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got '${text}'`);
  }
  return value;
}

/**
 * The settings of a stage, from the environment SST loads for it (.env, .env.STAGE):
 *   WORDCOUNT_COUNTERS              counters at once (2-1000; default 64, 4 under `sst dev`)
 *   WORDCOUNT_RESERVED_CONCURRENCY  reserve that many for the counter (default: none)
 *   WORDCOUNT_REMOVE_DATA=true      let `sst remove` delete the Data bucket and its data
 */
export function stageSettings(env: Env, dev: boolean): StageSettings {
  const reserved = integer(env, 'WORDCOUNT_RESERVED_CONCURRENCY', 1, 10_000);
  const counters =
    integer(env, 'WORDCOUNT_COUNTERS', 2, 1000) ?? Math.min(dev ? 4 : 64, reserved ?? 1000);
  if (reserved !== undefined && reserved < counters) {
    throw new Error(
      `WORDCOUNT_RESERVED_CONCURRENCY (${reserved}) is below WORDCOUNT_COUNTERS (${counters}): the queue's pollers would be throttled; set WORDCOUNT_COUNTERS to at most ${reserved}`,
    );
  }
  const remove = env.WORDCOUNT_REMOVE_DATA;
  if (remove !== undefined && remove !== '' && remove !== 'true' && remove !== 'false') {
    throw new Error(`WORDCOUNT_REMOVE_DATA must be true or false, got '${remove}'`);
  }
  return {
    counters,
    ...(reserved !== undefined && { reservedConcurrency: reserved }),
    counterTimeoutSeconds: dev ? COUNTER.devTimeoutSeconds : COUNTER.timeoutSeconds,
    retainData: remove !== 'true',
  };
}
