/** Jobs on the embedded backend: real files, real worker threads, the real task function. */
import { mkdtemp, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lib/adapters/file-store.js';
import { WorkerPoolRunner } from '../../lib/adapters/worker-pool/runner.js';
import { MapResultSchema } from '../../lib/contracts/tasks.js';
import { InvocationError, JobFailedError } from '../../lib/errors.js';
import type { JobProgress } from '../../lib/job/phases/job-progress.js';
import { runJob } from '../../lib/job/rpc/run-phases.js';
import { runMapTask } from '../../lib/job/tasks/map-task.js';
import { choosePartitions } from '../../lib/reduce/partition.js';
import type { Mode } from '../../lib/tokenize.js';
import { Embedded } from '../support/embedded.js';
import { countsTsvOf, expectedTsv, mergeEntries, singlePassCounts } from '../support/oracle.js';
import { hostileBytes } from '../support/text.js';

let dir: string;
const pools = new Map<number, Embedded>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wordcount-job-'));
  for (const size of [1, 2, 3]) pools.set(size, await Embedded.create(size));
});

afterAll(async () => {
  for (const pool of pools.values()) await pool.close();
});

function pool(size: number): Embedded {
  return pools.get(size) as Embedded;
}

const encode = (s: string) => new TextEncoder().encode(s);

async function file(name: string, body: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, body);
  return path;
}

describe('the task function in a worker thread', () => {
  it('runs a map task with a JSON payload and returns a valid result', async () => {
    const path = await file('small.txt', 'to be or not to be');
    const [object] = await pool(1).objects([path]);
    const reply = await pool(1).runner.invoke('counter', {
      type: 'map',
      index: 0,
      mode: 'whitespace',
      slices: [{ key: object?.key, etag: object?.etag, start: 0, end: 18, whole: false }],
      spill: { prefix: `${dir.slice(1)}/spill/`, inlineLimitBytes: 1000, partitions: 4 },
    });
    const result = MapResultSchema.parse(reply);
    const counts = new Map<string, number>();
    mergeEntries(counts, result.entries ?? '');
    expect(countsTsvOf(counts)).toBe('be\t2\nto\t2\nnot\t1\nor\t1\n');
    expect(result).toMatchObject({ tokens: 6, distinct: 4, uncompressedBytes: 18 });
  });

  it('turns an invalid payload into an InvocationError naming the field', async () => {
    const bad = pool(1).runner.invoke('counter', { type: 'map', mode: 'nouns' });
    await expect(bad).rejects.toThrow(InvocationError);
    await expect(bad).rejects.toThrow(/invalid task request at index/);
    await expect(pool(1).runner.invoke('counter', { type: 'shuffle' })).rejects.toThrow(
      /invalid task request at type/,
    );
  });

  it('turns an unknown function into an InvocationError', async () => {
    await expect(pool(2).runner.invoke('nosuch', {})).rejects.toThrow(/no function named 'nosuch'/);
  });
});

/** The fan-out of any bytes, chunk size, worker count and reduce equals the single pass. */
function fanOutEqualsSinglePass(mode: Mode) {
  let n = 0;
  return fc.asyncProperty(
    hostileBytes,
    fc.integer({ min: 1, max: 200 }),
    fc.integer({ min: 1, max: 3 }),
    fc.constantFrom('auto', 'inline', 'partitioned'),
    async (bytes, chunkSize, workers, reduce) => {
      const path = await file(`${mode}-${n++}.txt`, bytes);
      const { summary, tsv } = await pool(workers).count([path], { mode, chunkSize, reduce });
      expect(tsv).toBe(expectedTsv(mode, bytes));
      const single = singlePassCounts(mode, bytes);
      expect(summary.distinctWords).toBe(single.size);
      expect(summary.totalWords).toBe([...single.values()].reduce((a, b) => a + b, 0));
      expect(summary.chunks).toBe(Math.ceil(bytes.length / chunkSize));
      expect(summary.stats.reduceTasks > 0).toBe(reduce === 'partitioned');
    },
  );
}

describe('count job on the embedded backend', () => {
  for (const mode of ['words', 'whitespace'] as const) {
    it(`equals the single pass for any chunk size, 1-3 workers, reduced either way (${mode})`, async () => {
      await fc.assert(fanOutEqualsSinglePass(mode), { numRuns: 30 });
    });
  }

  it('counts a Japanese run the same in a worker thread that never segmented before (issue 14)', async () => {
    // The counterexample CI found: a fresh worker's first run `ーのの` came out `ーの|の`.
    const bytes = Uint8Array.from([
      237, 160, 128, 239, 191, 189, 227, 131, 188, 227, 129, 174, 227, 129, 174, 0, 240, 159, 195,
      188, 226, 128, 128, 0,
    ]);
    await fc.assert(fanOutEqualsSinglePass('words'), {
      examples: [[bytes, 4, 3, 'auto']],
      numRuns: 0,
    });
    await fc.assert(fanOutEqualsSinglePass('words'), { seed: 451981315, numRuns: 30 });
  });

  it('reduces in several tasks when partials spill, and the top words match', async () => {
    // Enough distinct words for more than one reduce task's minimum share of map output.
    const words = Array.from({ length: 600_000 }, (_, i) => `w${i.toString(36)}`);
    const body = `${words.join(' ')} ${'common '.repeat(500)}${words.slice(0, 99).join(' ')}`;
    const path = await file('spilling.txt', body);
    const { summary, tsv } = await pool(3).count([path], { mode: 'words', chunkSize: 1 << 20 });
    expect(tsv).toBe(expectedTsv('words', encode(body)));
    expect(summary.stats.reduceTasks).toBeGreaterThan(1);
    expect(summary.stats.partitions).toBe(choosePartitions(body.length));
    expect(summary.top.map((t) => `${t.word}\t${t.count}`)).toEqual(tsv.split('\n').slice(0, 5));
  });

  it('spills the inline partials it merged once they outgrow the driver, and stays exact', async () => {
    const words = Array.from({ length: 5000 }, (_, i) => `v${i}`);
    const path = await file('combiner.txt', `${words.join(' ')} ${words.join(' ')}`);
    const { summary, tsv } = await pool(2).count([path], {
      mode: 'whitespace',
      chunkSize: 2048,
      maxInlineDistinct: 1000,
    });
    expect(tsv).toBe(expectedTsv('whitespace', encode(`${words.join(' ')} ${words.join(' ')}`)));
    expect(summary.stats.reduceTasks).toBeGreaterThan(0);
  });

  it('counts several objects as one job: a token never spans two of them', async () => {
    const a = await file('a.txt', 'one two thr');
    const b = await file('b.txt', 'ee four\nfive');
    const empty = await file('empty.txt', '');
    const { summary, tsv } = await pool(2).count([a, b, empty], { mode: 'words', chunkSize: 4 });
    const sum = singlePassCounts('words', encode('one two thr'));
    for (const [w, c] of singlePassCounts('words', encode('ee four\nfive')))
      sum.set(w, (sum.get(w) ?? 0) + c);
    expect(tsv).toBe(countsTsvOf(sum));
    expect(summary.sources).toEqual({ objects: 3, bytes: 23 });
    expect(summary.stats.mapTasks).toBe(6);
  });

  it('reports the phases and the progress of every task', async () => {
    const path = await file('progress.txt', 'word '.repeat(1000));
    const seen: JobProgress[] = [];
    const embedded = pool(2);
    const objects = await embedded.objects([path]);
    await runJob(
      {
        sources: embedded.sources,
        work: embedded.sources,
        runner: embedded.runner,
        taskFunction: 'counter',
        onProgress: (p) => seen.push(p),
      },
      {
        source: { uri: path, etag: 'e' },
        objects,
        mode: 'words',
        chunkSize: 1000,
        concurrency: 2,
        top: 1,
        workPrefix: `${dir.slice(1)}/progress/`,
        inlineLimitBytes: 0,
        reduce: 'partitioned',
      },
    );
    const map = seen.filter((p) => p.phase === 'map');
    expect(map.map((p) => p.tasksDone)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(map.at(-1)?.bytesDone).toBe(5000);
    const reduce = seen.filter((p) => p.phase === 'reduce');
    expect(reduce.at(-1)?.tasksDone).toBe(reduce.at(-1)?.tasks);
    expect(seen.some((p) => p.phase === 'finalize')).toBe(false); // no counts file asked for
  });

  it('fails naming the object and bytes when a task fails, and writes no counts file', async () => {
    const path = await file('doomed.txt', 'some words here '.repeat(100));
    const embedded = pool(2);
    const objects = await embedded.objects([path]);
    const job = runJob(
      {
        sources: embedded.sources,
        work: embedded.sources,
        runner: embedded.runner,
        taskFunction: 'nosuch',
      },
      {
        source: { uri: path, etag: 'e' },
        objects,
        mode: 'words',
        chunkSize: 100,
        concurrency: 2,
        top: 1,
        workPrefix: `${dir.slice(1)}/doomed/`,
        inlineLimitBytes: 1000,
        counts: { store: embedded.sources, key: `${dir.slice(1)}/doomed.tsv` },
      },
    );
    await expect(job).rejects.toThrow(JobFailedError);
    await expect(job).rejects.toThrow(/counting .*doomed\.txt \(bytes \d+-\d+\) failed/);
    await expect(embedded.sources.head(`${dir.slice(1)}/doomed.tsv`)).rejects.toThrow(
      /no such file/,
    );
  });

  it('fails a map task whose file changed since the job read its etag', async () => {
    const path = await file('shrinking.txt', 'abc '.repeat(1000));
    const [info] = await pool(1).objects([path]);
    await truncate(path, 10);
    const request = {
      type: 'map',
      index: 1,
      mode: 'words',
      slices: [{ key: info?.key, etag: info?.etag, start: 2000, end: 3000, whole: false }],
      spill: { prefix: `${dir.slice(1)}/x/`, inlineLimitBytes: 1000, partitions: 4 },
    };
    await expect(pool(1).runner.invoke('counter', request)).rejects.toThrow(
      /PreconditionFailedError: .*shrinking\.txt changed since the job started/,
    );
  });
});

describe('gzip', () => {
  const text = 'The quick brown fox jumps over the lazy dog.\n'.repeat(2000);

  it('decompresses an object that starts with the gzip magic bytes, whatever its name', async () => {
    const gz = await file('misleading.txt', gzipSync(text));
    const plain = await file('not-really.gz', text);
    const { summary, tsv } = await pool(2).count([gz, plain], { mode: 'words' });
    const doubled = singlePassCounts('words', encode(text + text));
    expect(tsv).toBe(countsTsvOf(doubled));
    expect(summary.stats.uncompressedBytes).toBe(2 * text.length);
    expect(summary.sources.bytes).toBeLessThan(2 * text.length);
  });

  it('reads concatenated gzip members as one stream: a token may span two members', async () => {
    const [left, right] = [text.slice(0, 1001), text.slice(1001)];
    const gz = await file('members.gz', Buffer.concat([gzipSync(left), gzipSync(right)]));
    const { tsv } = await pool(1).count([gz], { mode: 'whitespace' });
    expect(tsv).toBe(expectedTsv('whitespace', encode(text)));
  });

  it('counts a gzip object bigger than the chunk size in one task, not in ranges', async () => {
    const big = gzipSync(Buffer.from(Array.from({ length: 60_000 }, (_, i) => `w${i}`).join(' ')));
    const gz = await file('big.gz', big);
    const { summary } = await pool(2).count([gz], { mode: 'words', chunkSize: 4096 });
    expect(big.length).toBeGreaterThan(4096 * 4);
    expect(summary.stats.mapTasks).toBe(1);
    expect(summary.distinctWords).toBe(60_000);
  });

  it('fails the job naming the object for corrupt or truncated gzip', async () => {
    const whole = gzipSync(text);
    const corrupt = Buffer.from(whole);
    corrupt[corrupt.length >> 1] = (corrupt[corrupt.length >> 1] as number) ^ 0xff;
    for (const [name, bytes] of [
      ['corrupt.gz', corrupt],
      ['truncated.gz', whole.subarray(0, whole.length - 9)],
    ] as const) {
      const path = await file(name, bytes);
      const job = pool(2).count([path], { mode: 'words' });
      await expect(job).rejects.toThrow(JobFailedError);
      await expect(job).rejects.toThrow(new RegExp(`${name}: not a valid gzip stream`));
    }
  });
});

describe('map task hygiene', () => {
  const request = (key: string, etag: string, end: number, whole: boolean) => ({
    type: 'map' as const,
    index: 0,
    mode: 'whitespace' as const,
    slices: [{ key, etag, start: 0, end, whole }],
    spill: { prefix: `${dir.slice(1)}/hygiene/`, inlineLimitBytes: 0, partitions: 4 },
  });

  it('closes the object it reads when its gzip stream turns out corrupt', async () => {
    const gz = gzipSync(Buffer.from('words '.repeat(200_000)));
    gz[2] = 0x07; // compression method: not deflate
    const path = await file('broken-method.gz', gz);
    const [object] = await pool(1).objects([path]);
    // The real file store, watched: every read it starts must be finished or closed.
    const files = new FileObjectStore('/');
    let open = 0;
    const watched = Object.assign(Object.create(files) as FileObjectStore, {
      async *readRange(key: string, options: Parameters<FileObjectStore['readRange']>[1]) {
        open++;
        try {
          yield* files.readRange(key, options);
        } finally {
          open--;
        }
      },
    });
    const stores = { source: watched, work: files };
    await expect(
      runMapTask(stores, request(object?.key as string, object?.etag as string, gz.length, true)),
    ).rejects.toThrow(/broken-method\.gz: not a valid gzip stream/);
    expect(open).toBe(0);
  });

  it('writes each attempt of a task under keys of its own, so a retry cannot overwrite the answer', async () => {
    const path = await file(
      'retried.txt',
      Array.from({ length: 5000 }, (_, i) => `r${i}`).join(' '),
    );
    const [object] = await pool(1).objects([path]);
    const stores = { source: new FileObjectStore('/'), work: new FileObjectStore('/') };
    const size = object?.size as number;
    const first = await runMapTask(
      stores,
      request(object?.key as string, object?.etag as string, size, false),
    );
    const second = await runMapTask(
      stores,
      request(object?.key as string, object?.etag as string, size, false),
    );
    const keys = (r: typeof first) => (r.spilled ?? []).map((p) => p.key);
    expect(keys(first)).toHaveLength(1);
    expect(keys(first).some((k) => keys(second).includes(k))).toBe(false);
    for (const r of [first, second]) {
      const part = r.spilled?.[0];
      const bytes = await stores.work.get(part?.key as string);
      expect(bytes.length).toBe(part?.offsets.at(-1));
    }
  });
});

describe('a map task whose vocabulary outgrows its table', () => {
  it('spills in several parts and the reduce still adds up exactly', async () => {
    // Bigger than one decompressed piece, so the table fills more than once.
    const words = Array.from({ length: 60_000 }, (_, i) => `k${i}`);
    const body = gzipSync(`${words.join(' ')}\n${words.slice(0, 1500).join(' ')}`);
    const path = await file('outgrown.gz', body);
    const embedded = pool(1);
    const [object] = await embedded.objects([path]);
    const stores = { source: embedded.sources, work: new FileObjectStore('/') };
    const result = await runMapTask(
      stores,
      {
        type: 'map',
        index: 0,
        mode: 'whitespace',
        slices: [
          {
            key: object?.key as string,
            etag: object?.etag as string,
            start: 0,
            end: body.length,
            whole: true,
          },
        ],
        spill: { prefix: `${dir.slice(1)}/outgrown/`, inlineLimitBytes: 1 << 20, partitions: 8 },
      },
      { maxDistinct: 5000 },
    );
    expect(result.spilled?.length).toBeGreaterThanOrEqual(3);
    expect(result.tokens).toBe(61_500);
    const merged = new Map<string, number>();
    for (const part of result.spilled ?? []) {
      mergeEntries(merged, new TextDecoder().decode(await stores.work.get(part.key)));
    }
    expect(countsTsvOf(merged)).toBe(
      expectedTsv('whitespace', encode(`${words.join(' ')}\n${words.slice(0, 1500).join(' ')}`)),
    );
  });
});

describe('worker pool failures', () => {
  it('fails every call, without respawning forever, when the worker cannot load', async () => {
    const broken = new WorkerPoolRunner({
      size: 2,
      script: new URL('file:///nonexistent/worker.js'),
      workerData: {},
    });
    try {
      await expect(broken.invoke('counter', {})).rejects.toThrow(
        /worker thread failed to start: .*nonexistent/,
      );
      await expect(broken.invoke('counter', {})).rejects.toThrow(/worker thread failed to start/);
    } finally {
      await broken.close();
    }
  });

  it('replaces a worker that dies in the middle of a task and fails only that task', async () => {
    const script = join(dir, 'crashy.mjs');
    await writeFile(
      script,
      `import { parentPort } from 'node:worker_threads';
       parentPort.on('message', (r) => {
         if (r.functionName === 'crash') process.exit(7);
         parentPort.postMessage({ id: r.id, ok: true, result: JSON.stringify('pong') });
       });`,
    );
    const crashy = new WorkerPoolRunner({ size: 1, script: new URL(`file://${script}`) });
    try {
      expect(await crashy.invoke('ping', {})).toBe('pong');
      await expect(crashy.invoke('crash', {})).rejects.toThrow(
        /crash: worker thread exited with code 7/,
      );
      expect(await crashy.invoke('ping', {})).toBe('pong');
    } finally {
      await crashy.close();
    }
  });
});
