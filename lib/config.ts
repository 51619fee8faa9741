/**
 * Configuration of the Lambda functions, parsed once at cold start into a frozen
 * object. Names come from SST's links when they are active, otherwise from plain
 * environment variables (what the emulator deploy sets); a missing one is named.
 */

import { type Prices, parsePrices } from './cost/prices.js';
import { UsageError } from './errors.js';
import { DEFAULT_CHUNK_SIZE } from './plan.js';
import { parseSize } from './sizes.js';

type Env = Record<string, string | undefined>;

export interface LinkedNames {
  bucket?: string;
  counterFunction?: string;
  queueUrl?: string;
}

export interface CounterConfig {
  bucket: string;
  /** The task queue, where a task that completes a phase sends the next (queue coordination). */
  queueUrl?: string;
  /** Heartbeat period of the phase leases. */
  heartbeatMs: number;
  /** What a job's cost is estimated at (WORDCOUNT_PRICES). */
  prices: Prices;
  /**
   * The function's configured memory (WORDCOUNT_MEMORY_MB), for its GB-seconds where the
   * runtime does not say (`sst dev` runs functions without it); 0 when unknown.
   */
  memoryMb: number;
}

/** Who drives a job: its tasks through the queue (default), or one orchestrator invocation. */
export type Coordination = 'queue' | 'rpc';
export const COORDINATIONS: readonly Coordination[] = ['queue', 'rpc'];

export type OrchestratorConfig = (
  | { coordination: 'rpc'; counterFunction: string }
  | { coordination: 'queue'; queueUrl: string }
) & {
  bucket: string;
  concurrency: number;
  chunkSize: number;
  /** How long one task invocation may take before it is given up: past the counter's timeout. */
  taskTimeoutMs: number;
  /** The job claim's heartbeat period: a claim silent for two is taken over. */
  heartbeatMs: number;
  /** What a job's cost is estimated at (WORDCOUNT_PRICES). */
  prices: Prices;
  /** As CounterConfig's. */
  memoryMb: number;
  /**
   * How long a queued job may go without progress before the watchdog sends its lost
   * tasks again (WORDCOUNT_STALL_SECONDS): past a task's timeout plus the queue's
   * visibility timeout, so a task that died is redelivered before it is taken for lost.
   */
  stallMs: number;
};

function required(env: Env, name: string, linked: string | undefined): string {
  const value = linked ?? env[name];
  if (value === undefined || value === '') {
    throw new UsageError(
      `configuration: environment variable ${name} is not set (and no SST link provides it)`,
    );
  }
  return value;
}

function positiveInt(env: Env, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`configuration: ${name} must be a positive integer, got '${text}'`);
  }
  return value;
}

const heartbeatMs = (env: Env) => positiveInt(env, 'WORDCOUNT_HEARTBEAT_SECONDS', 30) * 1000;
const memoryMb = (env: Env) => positiveInt(env, 'WORDCOUNT_MEMORY_MB', 0);

/** Memory for GB-seconds: the invocation's (Lambda's context says it), else the configured. */
export function memoryOf(
  context: { memoryLimitInMB?: string | number } | undefined,
  configured: number,
): number {
  const reported = Number(context?.memoryLimitInMB);
  return Number.isFinite(reported) && reported > 0 ? reported : configured;
}

export function counterConfig(env: Env, linked: LinkedNames = {}): Readonly<CounterConfig> {
  const queueUrl = linked.queueUrl ?? env.WORDCOUNT_QUEUE_URL;
  return Object.freeze({
    bucket: required(env, 'WORDCOUNT_BUCKET', linked.bucket),
    ...(queueUrl ? { queueUrl } : {}),
    heartbeatMs: heartbeatMs(env),
    prices: parsePrices(env.WORDCOUNT_PRICES),
    memoryMb: memoryMb(env),
  });
}

function coordinationOf(env: Env): Coordination {
  const text = env.WORDCOUNT_COORDINATION;
  if (text === undefined || text === '') return 'queue';
  if (!(COORDINATIONS as readonly string[]).includes(text)) {
    throw new UsageError(
      `configuration: WORDCOUNT_COORDINATION must be queue or rpc, got '${text}'`,
    );
  }
  return text as Coordination;
}

export function orchestratorConfig(
  env: Env,
  linked: LinkedNames = {},
): Readonly<OrchestratorConfig> {
  const chunkText = env.WORDCOUNT_CHUNK_SIZE;
  const coordination = coordinationOf(env);
  const taskTimeoutSeconds = positiveInt(env, 'WORDCOUNT_TASK_TIMEOUT_SECONDS', 330);
  return Object.freeze({
    ...(coordination === 'rpc'
      ? {
          coordination,
          counterFunction: required(env, 'WORDCOUNT_COUNTER_FUNCTION', linked.counterFunction),
        }
      : { coordination, queueUrl: required(env, 'WORDCOUNT_QUEUE_URL', linked.queueUrl) }),
    bucket: required(env, 'WORDCOUNT_BUCKET', linked.bucket),
    concurrency: positiveInt(env, 'WORDCOUNT_CONCURRENCY', 64),
    chunkSize: chunkText ? parseSize(chunkText) : DEFAULT_CHUNK_SIZE,
    taskTimeoutMs: taskTimeoutSeconds * 1000,
    heartbeatMs: heartbeatMs(env),
    prices: parsePrices(env.WORDCOUNT_PRICES),
    memoryMb: memoryMb(env),
    stallMs: positiveInt(env, 'WORDCOUNT_STALL_SECONDS', 3 * taskTimeoutSeconds) * 1000,
  });
}

/** True when SST has injected its links into this process. */
export function sstLinksActive(env: Env): boolean {
  return Boolean(env.SST_RESOURCE_App || env.SST_KEY_FILE || env.SST_RESOURCES_JSON);
}
