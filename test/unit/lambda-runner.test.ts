/** LambdaRunner's error mapping and retry policy, against a scripted client (no network). */
import type { InvokeCommand, InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { isRetryable, LambdaRunner, type LambdaSender } from '../../lib/adapters/lambda-runner.js';
import { InvocationError } from '../../lib/errors.js';

type Step = { reply: unknown; functionError?: string } | { error: unknown };

function throttle(): Error {
  return Object.assign(new Error('Rate exceeded'), {
    name: 'TooManyRequestsException',
    $metadata: { httpStatusCode: 429 },
  });
}

function scripted(steps: Step[]) {
  const calls: { name?: string; payload: string }[] = [];
  let inFlight = 0;
  let peak = 0;
  const client: LambdaSender = {
    async send(command: InvokeCommand): Promise<InvokeCommandOutput> {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
      calls.push({
        name: command.input.FunctionName,
        payload: new TextDecoder().decode(command.input.Payload as Uint8Array),
      });
      const step = steps.shift();
      if (!step) throw new Error('no more scripted replies');
      if ('error' in step) throw step.error;
      return {
        StatusCode: 200,
        FunctionError: step.functionError,
        Payload: new TextEncoder().encode(JSON.stringify(step.reply)),
        $metadata: {},
      } as InvokeCommandOutput;
    },
  };
  return { client, calls, peak: () => peak };
}

const noSleep = { sleep: async () => undefined, random: () => 0.5 };

describe('LambdaRunner', () => {
  it('sends the payload as JSON and parses the JSON reply', async () => {
    const { client, calls } = scripted([{ reply: { ok: 1 } }]);
    const runner = new LambdaRunner(client, { concurrency: 1, ...noSleep });
    expect(await runner.invoke('counter', { a: [1, 2] })).toEqual({ ok: 1 });
    expect(calls).toEqual([{ name: 'counter', payload: '{"a":[1,2]}' }]);
  });

  it('turns a FunctionError reply (HTTP 200) into an InvocationError with the function message', async () => {
    const { client } = scripted([
      {
        reply: {
          errorType: 'CorruptInputError',
          errorMessage: 's3://b/x.gz: not a valid gzip stream',
        },
        functionError: 'Unhandled',
      },
    ]);
    const runner = new LambdaRunner(client, { concurrency: 1, ...noSleep });
    const failure = runner.invoke('counter', {});
    await expect(failure).rejects.toThrow(InvocationError);
    await expect(failure).rejects.toThrow(
      'counter: CorruptInputError: s3://b/x.gz: not a valid gzip stream',
    );
  });

  it('invokes again a function that timed out or crashed, a bounded number of times', async () => {
    const timedOut = {
      reply: { errorMessage: '2026-11-27T00:00:00.000Z abc Task timed out after 300.00 seconds' },
      functionError: 'Unhandled',
    };
    const { client, calls } = scripted([timedOut, timedOut, { reply: 'counted' }]);
    const runner = new LambdaRunner(client, { concurrency: 1, ...noSleep });
    expect(await runner.invoke('counter', {})).toBe('counted');
    expect(calls).toHaveLength(3);
    const again = scripted([timedOut, timedOut, timedOut, { reply: 'never' }]);
    const failure = new LambdaRunner(again.client, { concurrency: 1, ...noSleep }).invoke(
      'counter',
      {},
    );
    await expect(failure).rejects.toThrow(/Task timed out after 300.00 seconds \(failed 3 times\)/);
    expect(again.calls).toHaveLength(3);
  });

  it('reads the error type from the head of the message when the runtime reports a generic one', async () => {
    const { client, calls } = scripted([
      {
        reply: {
          errorType: 'Runtime.HandlerError',
          errorMessage: 'ObjectNotFoundError: s3://b/k: no such key',
        },
        functionError: 'Unhandled',
      },
    ]);
    await expect(
      new LambdaRunner(client, { concurrency: 1, ...noSleep }).invoke('counter', {}),
    ).rejects.toThrow('counter: ObjectNotFoundError: s3://b/k: no such key');
    expect(calls).toHaveLength(1);
  });

  it('does not invoke again a function whose error a retry would repeat', async () => {
    for (const errorType of [
      'ObjectNotFoundError',
      'PreconditionFailedError',
      'InvalidPayloadError',
    ]) {
      const { client, calls } = scripted([
        { reply: { errorType, errorMessage: 'no' }, functionError: 'Unhandled' },
        { reply: 'never' },
      ]);
      await expect(
        new LambdaRunner(client, { concurrency: 1, ...noSleep }).invoke('counter', {}),
      ).rejects.toThrow(`counter: ${errorType}: no`);
      expect(calls).toHaveLength(1);
    }
  });

  it('keeps retrying throttling for its time budget: over a minute by default', async () => {
    const { client, calls } = scripted(Array.from({ length: 200 }, () => ({ error: throttle() })));
    let slept = 0;
    const runner = new LambdaRunner(client, {
      concurrency: 1,
      sleep: async (ms) => {
        slept += ms;
      },
      random: () => 1,
    });
    await expect(runner.invoke('counter', {})).rejects.toThrow(
      /TooManyRequestsException.*gave up after \d+ attempts/,
    );
    expect(slept).toBeGreaterThanOrEqual(60_000);
    expect(slept).toBeLessThan(90_000 + 10_000);
    expect(calls.length).toBeGreaterThan(10);
  });

  it('retries a 429 with backoff and then succeeds', async () => {
    const { client, calls } = scripted([
      { error: throttle() },
      { error: throttle() },
      { reply: 'done' },
    ]);
    const slept: number[] = [];
    const runner = new LambdaRunner(client, {
      concurrency: 1,
      baseDelayMs: 100,
      sleep: async (ms) => void slept.push(ms),
      random: () => 1,
    });
    expect(await runner.invoke('counter', {})).toBe('done');
    expect(calls).toHaveLength(3);
    expect(slept).toEqual([100, 200]);
  });

  it('counts and tells of every retry, with the payload it sends again', async () => {
    const { client } = scripted([
      { error: throttle() },
      {
        reply: { errorType: 'Runtime.ExitError', errorMessage: 'killed' },
        functionError: 'Unhandled',
      },
      { reply: 'done' },
    ]);
    const retries: unknown[] = [];
    const runner = new LambdaRunner(client, {
      concurrency: 1,
      ...noSleep,
      onRetry: (retry) => retries.push(retry),
    });
    expect(await runner.invoke('counter', { jobId: 'j1', index: 4 })).toBe('done');
    expect(runner.retries).toBe(2);
    expect(retries).toEqual([
      {
        functionName: 'counter',
        attempt: 2,
        reason: 'TooManyRequestsException',
        payload: { jobId: 'j1', index: 4 },
      },
      {
        functionName: 'counter',
        attempt: 3,
        reason: 'Runtime.ExitError: killed',
        payload: { jobId: 'j1', index: 4 },
      },
    ]);
  });

  it('gives up cleanly after its attempt budget, naming the function', async () => {
    const { client, calls } = scripted(Array.from({ length: 4 }, () => ({ error: throttle() })));
    const runner = new LambdaRunner(client, { concurrency: 1, maxAttempts: 4, ...noSleep });
    await expect(runner.invoke('wordcount-counter', {})).rejects.toThrow(
      'wordcount-counter: TooManyRequestsException: Rate exceeded (gave up after 4 attempts)',
    );
    expect(calls).toHaveLength(4);
  });

  it('does not retry an error a retry cannot fix', async () => {
    const missing = Object.assign(new Error('Function not found'), {
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 404 },
    });
    const { client, calls } = scripted([{ error: missing }, { reply: 'never' }]);
    const runner = new LambdaRunner(client, { concurrency: 1, ...noSleep });
    await expect(runner.invoke('nope', {})).rejects.toThrow(
      'nope: ResourceNotFoundException: Function not found',
    );
    expect(calls).toHaveLength(1);
  });

  it('keeps at most `concurrency` invocations in flight', async () => {
    const { client, peak } = scripted(Array.from({ length: 10 }, (_, i) => ({ reply: i })));
    const runner = new LambdaRunner(client, { concurrency: 3, ...noSleep });
    await Promise.all(Array.from({ length: 10 }, () => runner.invoke('counter', {})));
    expect(peak()).toBe(3);
  });

  it('uses full jitter within the capped exponential bound', () => {
    const runner = new LambdaRunner(scripted([]).client, {
      concurrency: 1,
      baseDelayMs: 100,
      maxDelayMs: 1000,
      random: () => 0.999,
    });
    expect(runner.backoffMs(1)).toBeLessThan(100);
    expect(runner.backoffMs(4)).toBeGreaterThan(790);
    expect(runner.backoffMs(20)).toBeLessThan(1000);
  });

  it('classifies throttling, 5xx and network errors as retryable', () => {
    expect(isRetryable(throttle())).toBe(true);
    expect(isRetryable({ $metadata: { httpStatusCode: 503 } })).toBe(true);
    expect(isRetryable(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryable({ name: 'TimeoutError' })).toBe(true);
    expect(
      isRetryable({ name: 'InvalidRequestContentException', $metadata: { httpStatusCode: 400 } }),
    ).toBe(false);
  });
});
