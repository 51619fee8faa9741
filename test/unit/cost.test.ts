import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { costOf, finishCost, s3RequestsOf } from '../../lib/cost/job-cost.js';
import { DEFAULT_PRICES } from '../../lib/cost/prices.js';
import { RequestMeter, since } from '../../lib/cost/request-meter.js';
import {
  addUsage,
  emptyTally,
  mergeTally,
  startUsage,
  type TaskUsage,
  type UsageTally,
} from '../../lib/cost/usage.js';

const usage = (billedMs: number, memoryMb: number, requests: Record<string, number> = {}) => ({
  billedMs,
  memoryMb,
  requests,
});

describe('job cost', () => {
  it('prices a job by hand: GB-seconds, invocations, S3 requests by tier, SQS requests', () => {
    const tally = emptyTally();
    // Two counter tasks of 1.5 s and 0.5 s at 1769 MB, the orchestrator 3 s at 3008 MB.
    addUsage(tally, 'counter', usage(1500, 1769, { 's3:GetObject': 3, 's3:PutObject': 1 }));
    addUsage(tally, 'counter', usage(500, 1769, { 's3:GetObject': 2, 's3:HeadObject': 1 }));
    addUsage(
      tally,
      'orchestrator',
      usage(3000, 3008, {
        's3:ListObjectsV2': 1,
        's3:CreateMultipartUpload': 1,
        's3:UploadPart': 3,
        's3:CompleteMultipartUpload': 1,
        's3:DeleteObject': 4,
        'sqs:SendMessageBatch': 2,
        'lambda:Invoke': 2,
      }),
    );
    const cost = costOf(tally, { backend: 'lambda', prices: DEFAULT_PRICES });
    const counterGbS = 2 * (1769 / 1024);
    const orchestratorGbS = 3 * (3008 / 1024);
    expect(cost.functions.counter).toEqual({
      invocations: 2,
      billedMs: 2000,
      gbSeconds: Number(counterGbS.toFixed(6)),
    });
    expect(cost.functions.orchestrator?.invocations).toBe(1);
    expect(cost.gbSeconds).toBeCloseTo(counterGbS + orchestratorGbS, 6);
    expect(cost.requests.s3).toEqual({
      get: 5,
      head: 1,
      list: 1,
      put: 1,
      copy: 0,
      multipart: 2,
      parts: 3,
      delete: 4,
      other: 0,
    });
    expect(cost.requests.sqs).toBe(2);
    // put + list + multipart + parts = 7 at the write price; get + head = 6 at the read price.
    const s3 = 7 * 0.000005 + 6 * 0.0000004;
    const lambdaCompute = (counterGbS + orchestratorGbS) * 0.0000133334;
    const lambdaRequests = 3 * 0.0000002;
    const sqs = 2 * 0.0000004;
    expect(cost.usd.s3).toBeCloseTo(s3, 9);
    expect(cost.usd.lambdaCompute).toBeCloseTo(lambdaCompute, 9);
    expect(cost.usd.lambdaRequests).toBeCloseTo(lambdaRequests, 9);
    expect(cost.usd.sqs).toBeCloseTo(sqs, 9);
    expect(cost.usd.total).toBeCloseTo(s3 + lambdaCompute + lambdaRequests + sqs, 9);
    expect(cost.prices).toBe(DEFAULT_PRICES);
  });

  it('reports CPU seconds and no dollars on the embedded backend', () => {
    const tally = addUsage(emptyTally(), 'counter', usage(700, 0, { 's3:GetObject': 9 }));
    const cost = costOf(tally, { backend: 'embedded', cpuSeconds: 1.23456 });
    expect(cost).toMatchObject({ backend: 'embedded', cpuSeconds: 1.235, gbSeconds: 0 });
    expect(cost.usd).toEqual({ lambdaCompute: 0, lambdaRequests: 0, s3: 0, sqs: 0, total: 0 });
    expect(cost.prices).toBeUndefined();
    expect(cost.requests.s3.get).toBe(9);
  });

  it('counts an S3 operation it does not know at the GET price, and no other service as S3', () => {
    expect(s3RequestsOf({ 's3:GetBucketLocation': 2, 'sqs:GetObject': 5 })).toMatchObject({
      other: 2,
      get: 0,
    });
  });

  it('adds the driver once, with its memory, when the job ends', () => {
    const tally = addUsage(emptyTally(), 'counter', usage(1000, 1024));
    const cost = finishCost(
      { backend: 'lambda', driverName: 'orchestrator', driver: () => usage(2000, 2048) },
      tally,
    );
    expect(cost.functions.orchestrator).toEqual({ invocations: 1, billedMs: 2000, gbSeconds: 4 });
    expect(cost.gbSeconds).toBe(5);
  });

  it('a tally is the same whichever way its tasks are grouped and merged', () => {
    const task = fc.record({
      fn: fc.constantFrom('counter', 'orchestrator'),
      billedMs: fc.integer({ min: 1, max: 900_000 }),
      memoryMb: fc.constantFrom(0, 128, 1769, 3008),
      requests: fc.dictionary(
        fc.constantFrom('s3:GetObject', 's3:PutObject', 'sqs:SendMessageBatch'),
        fc.integer({ min: 1, max: 50 }),
      ),
      retries: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(task, { maxLength: 30 }), fc.nat(), (tasks, cut) => {
        const add = (tally: UsageTally, t: (typeof tasks)[number]) =>
          addUsage(tally, t.fn, t as TaskUsage);
        const whole = tasks.reduce(add, emptyTally());
        const at = tasks.length === 0 ? 0 : cut % tasks.length;
        const left = tasks.slice(0, at).reduce(add, emptyTally());
        const right = tasks.slice(at).reduce(add, emptyTally());
        const merged = mergeTally(mergeTally(emptyTally(), right), left);
        expect(merged.requests).toEqual(whole.requests);
        expect(merged.retries).toBe(whole.retries);
        for (const [fn, u] of Object.entries(whole.functions)) {
          expect(merged.functions[fn]?.invocations).toBe(u.invocations);
          expect(merged.functions[fn]?.billedMs).toBe(u.billedMs);
          expect(merged.functions[fn]?.gbSeconds).toBeCloseTo(u.gbSeconds, 6);
        }
        expect(Object.keys(merged.functions).sort()).toEqual(Object.keys(whole.functions).sort());
      }),
    );
  });

  it('measures what was used since it started: requests between snapshots, time rounded up', async () => {
    const meter = new RequestMeter();
    meter.add('s3:GetObject', 4);
    const done = startUsage(meter, 512);
    meter.add('s3:GetObject');
    meter.add('s3:PutObject', 2);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const used = done();
    expect(used.requests).toEqual({ 's3:GetObject': 1, 's3:PutObject': 2 });
    expect(used.memoryMb).toBe(512);
    expect(used.billedMs).toBeGreaterThanOrEqual(5);
    expect(since({ a: 3 }, { a: 3 })).toEqual({});
  });
});
