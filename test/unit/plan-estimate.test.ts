/** The dry plan and its estimate: pure, from names and sizes, against the real planner's rules. */
import { describe, expect, it } from 'vitest';
import { PlanSummarySchema } from '../../lib/contracts/plan.js';
import { DEFAULT_PRICES } from '../../lib/cost/prices.js';
import { phaseEnd, queueSlots, rpcSlots } from '../../lib/cost/ramp.js';
import { distinctWords, SQS_MAPPING_SCALING } from '../../lib/cost/rates.js';
import { type DryPlanOptions, dryPlan, splitByName } from '../../lib/job/phases/dry-plan.js';
import { checkTaskCount } from '../../lib/job/request/limits.js';
import { DEFAULT_CHUNK_SIZE, growChunkSize, planTasks } from '../../lib/plan.js';
import { MiB } from '../../lib/sizes.js';

const GB = 1e9;

function options(overrides: Partial<DryPlanOptions> = {}): DryPlanOptions {
  return {
    mode: 'words',
    chunkSize: DEFAULT_CHUNK_SIZE,
    chunkSizeAsked: false,
    defaultChunkSize: DEFAULT_CHUNK_SIZE,
    width: 1000,
    widthReason: 'test',
    coordinations: ['queue', 'rpc'],
    prices: DEFAULT_PRICES,
    ...overrides,
  };
}

const objects = (n: number, size: number, name: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => ({ key: name(i), uri: `/data/${name(i)}`, size }));

/** As admission picks the chunk size when none is asked. */
function planOf(
  input: { key: string; uri: string; size: number }[],
  more: Partial<DryPlanOptions> = {},
) {
  const chunkSize = growChunkSize(
    input.reduce((s, o) => s + o.size, 0),
    DEFAULT_CHUNK_SIZE,
  );
  return dryPlan(
    { uri: '/data', listing: 'prefix', objects: input },
    options({ chunkSize, ...more }),
  );
}

describe('splitByName', () => {
  it('reads compressed and WARC objects whole, Parquet by row groups, the rest in ranges', () => {
    expect(splitByName('crawl/x.warc.wet.gz')).toEqual({ split: { kind: 'whole' }, kind: 'warc' });
    expect(splitByName('dump.txt.zst')).toEqual({ split: { kind: 'whole' }, kind: 'compressed' });
    expect(splitByName('c4/en.jsonl.gz')).toEqual({ split: { kind: 'whole' }, kind: 'compressed' });
    expect(splitByName('x.warc')).toEqual({ split: { kind: 'whole' }, kind: 'text' });
    expect(splitByName('fineweb/000.parquet')).toEqual({
      split: { kind: 'rowGroups' },
      kind: 'parquet',
    });
    expect(splitByName('a.jsonl').split).toEqual({ kind: 'ranges', format: 'jsonl' });
    expect(splitByName('book.txt').split).toEqual({ kind: 'ranges', format: 'text' });
  });

  it('lets an asked format decide, but never cuts a compressed object', () => {
    expect(splitByName('data.bin', 'jsonl').split).toEqual({ kind: 'ranges', format: 'jsonl' });
    expect(splitByName('data.bin', 'parquet').split).toEqual({ kind: 'rowGroups' });
    expect(splitByName('data.gz', 'text').split).toEqual({ kind: 'whole' });
  });
});

describe('the scaling ramps', () => {
  it('starts a queue at 5 counters and adds 300 a minute up to the width', () => {
    const slots = queueSlots(1000);
    expect(slots(0).now).toBe(SQS_MAPPING_SCALING.initial);
    expect(slots(60).now).toBe(305);
    expect(slots(600).now).toBe(1000);
    expect(queueSlots(64)(600).now).toBe(64);
  });

  it('lets direct invocations go 1,000 wide at once', () => {
    expect(rpcSlots(1000)(0).now).toBe(1000);
    expect(rpcSlots(3000)(15).now).toBe(2000);
  });

  it('runs tasks in waves at a fixed width, and slower while a queue ramps up', () => {
    expect(phaseEnd(new Array(600).fill(1), rpcSlots(100), 0)).toBeCloseTo(6);
    // 5 + 5t slots: 5t + 2.5t^2 task-seconds by t; 600 of them by about 14.5 s.
    const queued = phaseEnd(new Array(600).fill(1), queueSlots(1000), 0);
    expect(queued).toBeGreaterThan(14);
    expect(queued).toBeLessThan(16.5);
    // A ramp that already rose (a later phase) is faster.
    expect(phaseEnd(new Array(600).fill(1), queueSlots(1000), 200) - 200).toBeCloseTo(1);
  });
});

describe('dryPlan', () => {
  it('plans 10 GB of text as the orchestrator would: 16 MiB ranges, P = 1,024, a shuffle', () => {
    const plan = PlanSummarySchema.parse(planOf(objects(1, 10 * GB, () => 'books.txt')));
    expect(plan.chunkSize).toBe(16 * MiB);
    expect(plan.tasks.map).toBe(Math.ceil((10 * GB) / (16 * MiB)));
    expect(plan.splits.ranges).toEqual({ objects: 1, bytes: 10 * GB, tasks: plan.tasks.map });
    expect(plan.partitions).toBe(1024);
    expect(plan.estimate.words).toBe(Math.round((10 * GB) / 6));
    expect(plan.estimate.distinctWords).toBe(distinctWords(plan.estimate.words));
    expect(plan.tasks.reduce).toBeGreaterThan(0);
    const { queue, rpc } = plan.estimate.coordinations;
    if (!queue || !rpc) throw new Error('both coordinations are estimated');
    // The queue ramps up from 5 counters; the orchestrator invokes 1,000 at once.
    expect(queue.phasesSeconds.map).toBeGreaterThan(rpc.phasesSeconds.map);
    expect(queue.cost.requests.sqs).toBeGreaterThan(0);
    expect(rpc.cost.requests.sqs).toBe(0);
    expect(rpc.cost.functions.counter?.invocations).toBe(plan.tasks.total);
    // Every reduce task reads a piece of every map output.
    expect(rpc.cost.requests.s3.get).toBeGreaterThan(plan.tasks.map * plan.tasks.reduce);
    expect(rpc.cost.usd.total).toBeGreaterThan(0);
    expect(rpc.warnings).toEqual([]);
  });

  it('grows the chunk size for a terabyte, and names why', () => {
    const plan = planOf(objects(1000, GB, (i) => `part-${i}.jsonl`));
    expect(plan.chunkSize).toBe(64 * MiB);
    expect(plan.chunkSizeReason).toMatch(/doubled until the input is at most 20,000 chunks/);
    expect(plan.tasks.map).toBe(1000 * Math.ceil(GB / (64 * MiB)));
  });

  it('makes the same map tasks as the planner given the splits the names say', () => {
    const input = [
      ...objects(3, 40 * MiB, (i) => `crawl/${i}.warc.wet.gz`),
      ...objects(2, 50 * MiB, (i) => `text/${i}.txt`),
      ...objects(40, 1 * MiB, (i) => `small/${i}.txt`),
      ...objects(1, 33 * MiB, () => 'pq/a.parquet'),
    ];
    const plan = dryPlan({ uri: '/data', listing: 'prefix', objects: input }, options());
    const expected = planTasks(
      input.map((o) => ({ ...o, etag: '', split: { kind: 'ranges', format: 'text' } as const })),
      16 * MiB,
    );
    // Ranges for all but the three whole WARC files (each 3 ranges if cut).
    expect(plan.tasks.map).toBe(expected.length - 3 * 3 + 3);
    expect(plan.splits.whole).toEqual({ objects: 3, bytes: 3 * 40 * MiB, tasks: 3 });
    expect(plan.splits.rowGroups).toEqual({ objects: 1, bytes: 33 * MiB, tasks: 3 });
    expect(plan.splits.packed).toMatchObject({ objects: 40, tasks: 3 });
  });

  it('counts a crawl of gzip files over the chunk size as one task each, within the job limit', () => {
    const input = objects(30_000, 20 * MiB, (i) => `crawl/${i}.warc.wet.gz`);
    expect(() =>
      checkTaskCount(
        '/crawl',
        input.map((o) => ({ ...o, etag: '' })),
        16 * MiB,
      ),
    ).not.toThrow();
    const plan = dryPlan({ uri: '/crawl', listing: 'prefix', objects: input }, options());
    expect(plan.splits.whole.tasks).toBe(30_000);
    expect(plan.assumptions.join('\n')).toMatch(/WARC\/WET gzip objects: 59.4 MB\/s/);
  });

  it('merges a small input inline: no reduce or finalize tasks', () => {
    const plan = planOf(objects(1, 4 * MiB, () => 'a.txt'));
    expect(plan.tasks).toEqual({ map: 1, reduce: 0, finalize: 0, total: 1 });
    expect(plan.estimate.mapOutputBytes).toBe(0);
    expect(plan.assumptions.join('\n')).toMatch(/no reduce phase/);
  });

  it('warns of a task that would outlast the counter timeout, and an RPC job past 15 minutes', () => {
    const big = planOf(objects(1, 20 * GB, () => 'dump.jsonl.gz'));
    expect(big.splits.whole.tasks).toBe(1);
    expect(big.estimate.coordinations.queue?.warnings[0]).toMatch(
      /dump\.jsonl\.gz: its task would take about \d+ s, over the counter's 300 s timeout/,
    );
    const narrow = planOf(
      objects(1, 100 * GB, () => 'books.txt'),
      { width: 2 },
    );
    expect(narrow.estimate.coordinations.rpc?.warnings.join('\n')).toMatch(
      /past the 840 s an RPC orchestrator works/,
    );
    expect(narrow.estimate.coordinations.queue?.warnings).toEqual([]);
  });

  it('prices the same requests at the table it is given', () => {
    const at = (prices: typeof DEFAULT_PRICES) =>
      planOf(
        objects(1, GB, () => 'a.txt'),
        { prices },
      ).estimate.coordinations.queue?.cost.usd.total ?? 0;
    const doubled = Object.fromEntries(
      Object.entries(DEFAULT_PRICES).map(([k, v]) => [k, typeof v === 'number' ? 2 * v : v]),
    ) as typeof DEFAULT_PRICES;
    expect(at(doubled)).toBeCloseTo(2 * at(DEFAULT_PRICES), 8);
  });

  it('prints every assumption with where it comes from', () => {
    const text = planOf(objects(1, GB, () => 'a.txt')).assumptions.join('\n');
    for (const source of [
      'nothing was read',
      'README Performance, prose table',
      'Configuring scaling behavior for SQS event source mappings',
      'Lambda scaling behavior',
      'Lambda quotas',
      "Heaps' law",
      'us-east-1 arm64 list prices: $0.0000133334 per GB-s, $0.2 per million invocations',
    ]) {
      expect(text).toContain(source);
    }
  });
});
