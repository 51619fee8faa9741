/** What the RPC driver is given: its ports and settings, and the invocation it runs in. */
import type { Prices } from '../../cost/prices.js';
import type { RequestMeter } from '../../cost/request-meter.js';
import type { Log } from '../../log.js';
import type { FunctionRunner, ObjectStore } from '../../ports.js';

/** Time kept back before Lambda's deadline to record the failure and release the claim. */
export const DEADLINE_MARGIN_MS = 60_000;

export interface OrchestratorDeps {
  store: ObjectStore;
  bucket: string;
  runner: FunctionRunner;
  /** The function that runs map, reduce and finalize tasks. */
  taskFunction: string;
  concurrency: number;
  defaultChunkSize: number;
  inlineLimitBytes?: number;
  /** Heartbeat period of the claim: stale, and taken over, after two. */
  heartbeatMs?: number;
  now?: () => Date;
  log?: Log;
  /** Reckon each job's cost: the requests this process makes, at these prices. */
  cost?: { meter: RequestMeter; prices: Prices };
}

export interface InvocationContext {
  /** The invocation's configured memory (Lambda's memoryLimitInMB): its GB-seconds. */
  memoryMb?: number;
  /** Who runs the job (the Lambda request id). */
  owner?: string;
  /** Milliseconds until this invocation is killed (Lambda's getRemainingTimeInMillis). */
  remainingMs?: () => number;
}
