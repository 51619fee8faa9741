/**
 * FunctionRunner over AWS Lambda (synchronous RequestResponse invokes). Throttling is
 * normal at fan-out scale: 429s, 5xx and network errors are retried with exponential
 * backoff and full jitter for as long as `retryForMs` (90 s by default: throttling
 * passes), at most `concurrency` calls are in flight, and each call has a timeout. A
 * function that failed (timed out, ran out of memory, met an S3 5xx) is invoked again up
 * to `functionRetries` times, unless its error is one a retry would only repeat (a bad
 * request, a missing or changed object, a corrupt input). Tasks are idempotent, so a
 * retry is always safe. Build the client with `maxAttempts: 1` (see aws-clients.ts) so
 * these are the only retries.
 */
import { InvokeCommand, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { DETERMINISTIC_ERRORS, InvocationError } from '../errors.js';
import type { FunctionRunner } from '../ports.js';

export interface LambdaRunnerOptions {
  /** Invocations in flight at once. */
  concurrency: number;
  /** Attempts per call at most, the first included, whatever the time (default: no cap). */
  maxAttempts?: number;
  /** Throttling and transport errors are retried until this long after the first attempt. */
  retryForMs?: number;
  /** Retries of a function error a later attempt may survive (timeouts, crashes, 5xx). */
  functionRetries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per attempt; a timed-out attempt is retried (counting is idempotent). */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Told of every retry: one log line each, never silent. */
  onRetry?: (retry: {
    functionName: string;
    attempt: number;
    reason: string;
    /** The payload sent again. */
    payload: unknown;
  }) => void;
}

/** The one method used of a LambdaClient. */
export interface LambdaSender {
  send(
    command: InvokeCommand,
    options?: { abortSignal?: AbortSignal },
  ): Promise<InvokeCommandOutput>;
}

const RETRYABLE_NAMES = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'ServiceException',
  'EC2ThrottledException',
  'ResourceNotReadyException',
  'TimeoutError',
  'AbortError',
]);
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** True for throttling, server-side and network failures, which a later attempt may survive. */
export function isRetryable(error: unknown): boolean {
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  if (status === 429 || (status !== undefined && status >= 500)) return true;
  return RETRYABLE_NAMES.has(e?.name ?? '') || RETRYABLE_CODES.has(e?.code ?? '');
}

class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class LambdaRunner implements FunctionRunner {
  private readonly slots: Semaphore;
  private readonly maxAttempts: number;
  private readonly retryForMs: number;
  private readonly functionRetries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly onRetry?: LambdaRunnerOptions['onRetry'];
  /** Invocations sent again (throttled, failed, timed out) since this runner was made. */
  retries = 0;

  constructor(
    private readonly client: LambdaSender,
    options: LambdaRunnerOptions,
  ) {
    this.slots = new Semaphore(Math.max(1, options.concurrency));
    this.maxAttempts = Math.max(1, options.maxAttempts ?? Number.POSITIVE_INFINITY);
    this.retryForMs = options.retryForMs ?? 90_000;
    this.functionRetries = options.functionRetries ?? 2;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.onRetry = options.onRetry;
  }

  private retried(functionName: string, attempt: number, reason: string, payload: unknown): void {
    this.retries++;
    this.onRetry?.({ functionName, attempt, reason, payload });
  }

  async invoke(functionName: string, payload: unknown): Promise<unknown> {
    await this.slots.acquire();
    try {
      return await this.invokeWithRetries(functionName, JSON.stringify(payload), payload);
    } finally {
      this.slots.release();
    }
  }

  async close(): Promise<void> {}

  /** Full jitter: uniform in [0, min(max, base * 2^(attempt-1))). */
  backoffMs(attempt: number): number {
    return this.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
  }

  private async invokeWithRetries(
    functionName: string,
    payload: string,
    sent: unknown,
  ): Promise<unknown> {
    let slept = 0;
    let functionFailures = 0;
    for (let attempt = 1; ; attempt++) {
      let out: InvokeCommandOutput;
      try {
        out = await this.client.send(
          new InvokeCommand({
            FunctionName: functionName,
            InvocationType: 'RequestResponse',
            Payload: encoder.encode(payload),
          }),
          { abortSignal: AbortSignal.timeout(this.timeoutMs) },
        );
      } catch (error) {
        // Time spent sleeping (not waiting on calls) decides: a budget of backoff.
        if (isRetryable(error) && attempt < this.maxAttempts && slept < this.retryForMs) {
          const delay = this.backoffMs(attempt);
          slept += delay;
          this.retried(
            functionName,
            attempt + 1,
            (error as { name?: string }).name ?? 'Error',
            sent,
          );
          await this.sleep(delay);
          continue;
        }
        const name = (error as { name?: string }).name ?? 'Error';
        const message = error instanceof Error ? error.message : String(error);
        const tries = attempt > 1 ? ` (gave up after ${attempt} attempts)` : '';
        throw new InvocationError(functionName, `${name}: ${message}${tries}`, isRetryable(error), {
          cause: error,
        });
      }
      const text = out.Payload ? decoder.decode(out.Payload) : '';
      // A handler that threw still answers HTTP 200; the error is in FunctionError.
      if (out.FunctionError) {
        const { type, message } = describeFunctionError(text, out.FunctionError);
        const retryable = !DETERMINISTIC_ERRORS.has(type);
        if (retryable && functionFailures < this.functionRetries && attempt < this.maxAttempts) {
          functionFailures++;
          this.retried(functionName, attempt + 1, `${type}: ${message}`, sent);
          await this.sleep(this.backoffMs(functionFailures));
          continue;
        }
        const tries = functionFailures > 0 ? ` (failed ${functionFailures + 1} times)` : '';
        throw new InvocationError(functionName, `${type}: ${message}${tries}`, retryable);
      }
      try {
        return text === '' ? null : JSON.parse(text);
      } catch (error) {
        throw new InvocationError(functionName, 'returned a payload that is not JSON', false, {
          cause: error,
        });
      }
    }
  }
}

/**
 * The error's type and message. A task names its error at the head of the message
 * (`ObjectNotFoundError: …`): Lambda also reports it as errorType, but an emulator may
 * report every error as Runtime.HandlerError.
 */
function describeFunctionError(payload: string, kind: string): { type: string; message: string } {
  let type = kind;
  let message = payload || 'no error message';
  try {
    const parsed = JSON.parse(payload) as { errorType?: string; errorMessage?: string };
    if (parsed.errorMessage !== undefined) {
      type = parsed.errorType ?? kind;
      message = parsed.errorMessage;
    }
  } catch {
    // not JSON: report it as it came
  }
  const named = /^([A-Za-z]+Error): /.exec(message);
  if (named) return { type: named[1] as string, message: message.slice(named[0].length) };
  return { type, message };
}
