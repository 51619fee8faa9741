/**
 * One job suite, every driver and backend: the same scenarios run on {rpc, queue} ×
 * {embedded, emulator} (test/integration/job-suite.test.ts, test/e2e/job-suite.test.ts),
 * each checked against a single pass over the same bytes. What only one combination can
 * do (its faults) stays beside it.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { StartRequest } from '../../lib/contracts/requests.js';
import type { JobStatus } from '../../lib/contracts/status.js';
import type { Summary } from '../../lib/contracts/summary.js';
import { outputKeys } from '../../lib/keys.js';
import { referenceDocFreqTsv, referenceNgrams } from '../support/ngram-oracle.js';
import { countsTsvOf, singlePassCounts } from '../support/oracle.js';

/** How a job ended, as its world saw it. */
export interface Ended {
  /** The job's status record (the latest for its output). */
  status?: JobStatus;
  /** The published summary and counts, when it published. */
  summary?: Summary;
  tsv?: string;
  /** What the request answered when it failed (a refusal, a failed RPC job). */
  error?: string;
}

export interface JobWorld {
  /** Keys of this world's runs start with this. */
  prefix: string;
  /** Writes an input object (with user metadata: S3's x-amz-meta-*). */
  put(key: string, body: Uint8Array | string, metadata?: Record<string, string>): Promise<void>;
  /** Whether anything was written under jobs/ for this output (a refusal writes nothing). */
  jobRecords(summaryKey: string): Promise<string[]>;
  /**
   * Runs a job as a direct request does and waits for its end; `whileRunning` is called
   * once, when the job is recorded running (an overwrite mid-job).
   */
  count(request: StartRequest, whileRunning?: () => Promise<void>): Promise<Ended>;
  /** Runs a job whose tasks fail on every delivery (each world's own way to make them). */
  countWithFailingTask(request: StartRequest): Promise<Ended>;
}

const encoder = new TextEncoder();

/** Text of `n` distinct words. */
export const distinctWords = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => `${tag}${i.toString(36)}`).join(' ');

/** Checks the job published the single pass's counts (those counted at least `minCount` times). */
function expectPublished(ended: Ended, bytes: readonly Uint8Array[], minCount = 1): Summary {
  expect(ended.error).toBeUndefined();
  expect(ended.status?.state).toBe('succeeded');
  const counts = new Map<string, number>();
  for (const b of bytes)
    for (const [w, c] of singlePassCounts('words', b)) counts.set(w, (counts.get(w) ?? 0) + c);
  const kept = new Map([...counts].filter(([, c]) => c >= minCount));
  expect(ended.tsv).toBe(countsTsvOf(kept));
  const summary = ended.summary as Summary;
  expect(summary.jobId).toBe(ended.status?.jobId);
  expect(summary.distinctWords).toBe(counts.size);
  if (minCount > 1) {
    expect(summary).toMatchObject({ minCount, keptWords: kept.size });
    const lines = (ended.tsv ?? '').split('\n').slice(0, summary.top.length);
    expect(summary.top.map((t) => `${t.word}\t${t.count}`)).toEqual(lines);
    expect(summary.top.length).toBe(Math.min(20, kept.size));
  } else expect(summary.keptWords).toBeUndefined();
  return summary;
}

export function jobSuite(name: string, world: () => JobWorld, text: () => string): void {
  describe(`job suite: ${name}`, () => {
    const key = (rel: string) => `${world().prefix}${rel}`;

    it('counts one object exactly as a single pass does', async () => {
      const body = encoder.encode(text());
      await world().put(key('input/one.txt'), body);
      const ended = await world().count({ input: { kind: 'key', key: key('input/one.txt') } });
      const summary = expectPublished(ended, [body]);
      expect(summary.sources.objects).toBe(1);
    });

    it('counts every object under a prefix as one job, a gzip one included', async () => {
      const parts = [text().slice(0, 5000), text().slice(5000, 9000), text().slice(9000, 20000)];
      const bodies = parts.map((p) => encoder.encode(p));
      await world().put(key('corpus/a.txt'), bodies[0] as Uint8Array);
      await world().put(key('corpus/b/c.txt'), bodies[1] as Uint8Array);
      await world().put(key('corpus/d.txt.gz'), gzipSync(bodies[2] as Uint8Array));
      const ended = await world().count({ input: { kind: 'prefix', prefix: key('corpus/') } });
      const summary = expectPublished(ended, bodies);
      expect(summary.sources.objects).toBe(3);
    });

    it('counts the objects a manifest names: a prefix, or a list of keys', async () => {
      const bodies = [
        encoder.encode(text().slice(0, 3000)),
        encoder.encode(text().slice(3000, 7000)),
      ];
      await world().put(key('named/x.txt'), bodies[0] as Uint8Array);
      await world().put(key('named/y.txt'), bodies[1] as Uint8Array);
      // A manifest is a key under input/ at the bucket's root.
      const manifests = [
        `input/${world().prefix}by-prefix.manifest.json`,
        `input/${world().prefix}by-keys.manifest.json`,
      ];
      await world().put(manifests[0] as string, JSON.stringify({ prefix: key('named/') }));
      await world().put(
        manifests[1] as string,
        JSON.stringify({ keys: [key('named/y.txt'), key('named/x.txt')] }),
      );
      for (const manifest of manifests) {
        const ended = await world().count({ input: { kind: 'key', key: manifest } });
        expect(expectPublished(ended, bodies).sources.objects).toBe(2);
      }
    });

    it('counts a list of keys as one job', async () => {
      const bodies = [encoder.encode('one list of keys'), encoder.encode('two keys in one list')];
      await world().put(key('list/1.txt'), bodies[0] as Uint8Array);
      await world().put(key('list/2.txt'), bodies[1] as Uint8Array);
      const ended = await world().count({
        input: { kind: 'keys', keys: [key('list/1.txt'), key('list/2.txt')] },
      });
      expectPublished(ended, bodies);
    });

    it('counts a gzip object as the text inside it', async () => {
      const body = encoder.encode(text());
      await world().put(key('input/packed.txt.gz'), gzipSync(body));
      const ended = await world().count({
        input: { kind: 'key', key: key('input/packed.txt.gz') },
      });
      expect(expectPublished(ended, [body]).stats.uncompressedBytes).toBe(body.length);
    });

    it('reduces a big vocabulary in reduce tasks, exactly', async () => {
      const body = encoder.encode(`${distinctWords(560_000, 'v')} ${text().slice(0, 2000)}`);
      await world().put(key('input/wide.txt'), body);
      const ended = await world().count({
        input: { kind: 'key', key: key('input/wide.txt') },
        chunkSize: '256KiB',
      });
      const summary = expectPublished(ended, [body]);
      expect(summary.stats.reduceTasks).toBeGreaterThan(0);
      expect(summary.distinctWords).toBe(singlePassCounts('words', body).size);
    }, 240_000);

    it('publishes only the words counted at least minCount times, asked by request or upload', async () => {
      const body = encoder.encode(text());
      const input = { kind: 'key', key: key('input/frequent.txt') } as const;
      await world().put(input.key, body);
      const pruned = expectPublished(await world().count({ input, minCount: 5 }), [body], 5);
      expect(pruned.keptWords).toBeLessThan(pruned.distinctWords);
      // The upload's metadata asks for it; a direct request's own minCount wins.
      const asked = { kind: 'key', key: key('input/asked.txt') } as const;
      await world().put(asked.key, body, { 'wordcount-min-count': '40' });
      expectPublished(await world().count({ input: asked }), [body], 40);
      expectPublished(await world().count({ input: asked, minCount: 3 }), [body], 3);
    });

    it('counts n-grams line by line, asked by request or upload', async () => {
      // Genesis's lines, then one line of Chinese: bigrams never cross a line's end.
      const body = encoder.encode(
        `${text().slice(0, 200_000)}\n分布式编程的计数，分布式的归约。\n`,
      );
      const expected = referenceNgrams('words', body, 2);
      const input = { kind: 'key', key: key('input/bigrams.txt') } as const;
      await world().put(input.key, body);
      const expectBigrams = (ended: Ended, n: number) => {
        expect(ended.error).toBeUndefined();
        expect(ended.status?.state).toBe('succeeded');
        const wanted = n === 2 ? expected : referenceNgrams('words', body, n);
        expect(ended.tsv).toBe(countsTsvOf(wanted.counts));
        expect(ended.summary).toMatchObject({ ngram: n, totalWords: wanted.total });
      };
      expectBigrams(await world().count({ input, ngram: 2, chunkSize: '64KiB' }), 2);
      expect(expected.counts.get('分布式 编程')).toBe(1);
      // The upload's metadata asks for it; a direct request's own ngram wins.
      const asked = { kind: 'key', key: key('input/trigrams.txt') } as const;
      await world().put(asked.key, body, { 'wordcount-ngram': '3' });
      expectBigrams(await world().count({ input: asked, chunkSize: '64KiB' }), 3);
      expectBigrams(await world().count({ input: asked, ngram: 2 }), 2);
    });

    it("counts each word's documents (records), asked by request or upload", async () => {
      // Genesis's verses as JSON Lines records, one document each, in ranges of 64 KiB.
      const verses = text().slice(0, 150_000).split('\n').filter(Boolean);
      const body = encoder.encode(verses.map((v) => `${JSON.stringify({ text: v })}\n`).join(''));
      const expected = referenceDocFreqTsv(
        'words',
        verses.map((v) => encoder.encode(v)),
        1,
        false,
      );
      const expectDocs = (ended: Ended) => {
        expect(ended.error).toBeUndefined();
        expect(ended.status?.state).toBe('succeeded');
        expect(ended.tsv).toBe(expected);
        expect(ended.summary).toMatchObject({ docFreq: true, documents: verses.length });
      };
      const input = { kind: 'key', key: key('input/verses.jsonl') } as const;
      await world().put(input.key, body);
      expectDocs(await world().count({ input, docFreq: true, chunkSize: '64KiB' }));
      const asked = { kind: 'key', key: key('input/verses-asked.jsonl') } as const;
      await world().put(asked.key, body, { 'wordcount-doc-freq': 'true' });
      expectDocs(await world().count({ input: asked, chunkSize: '64KiB' }));
    });

    it('prunes after reduce tasks, exactly', async () => {
      // Every v-word once, Genesis's words many times: only the latter are kept.
      const body = encoder.encode(`${distinctWords(560_000, 'v')} ${text().slice(0, 20000)}`);
      await world().put(key('input/wide-pruned.txt'), body);
      const ended = await world().count({
        input: { kind: 'key', key: key('input/wide-pruned.txt') },
        chunkSize: '256KiB',
        minCount: 2,
      });
      const summary = expectPublished(ended, [body], 2);
      expect(summary.stats.reduceTasks).toBeGreaterThan(0);
      expect(summary.keptWords).toBeLessThan(10_000);
    }, 240_000);

    it('counts Chinese by jieba and Japanese by ICU, as a single pass does', async () => {
      // Runs of Han alone (jieba's) and runs with kana (ICU's), over several tasks.
      const line =
        '分布式编程是把一个大任务分给许多台计算机，每台计算机统计自己那一份的单词，最后汇总结果。' +
        '東京タワーは日本の電波塔です。カタカナとひらがなの文章を数える。\n';
      const body = encoder.encode(
        Array.from({ length: 3000 }, (_, i) => `${i % 7 === 0 ? '编程' : ''}${line}`).join(''),
      );
      const input = { kind: 'key', key: key('input/chinese.txt') } as const;
      await world().put(input.key, body);
      const summary = expectPublished(await world().count({ input, chunkSize: '64KiB' }), [body]);
      expect(summary.chunks).toBeGreaterThan(1);
      expect(Object.keys(summary.segmenters ?? {}).sort()).toEqual(['icu', 'jieba']);
      expect(summary.top.find((t) => t.word === '分布式')?.count).toBe(3000);
    }, 120_000);

    it('refuses a request over the limits before writing anything under jobs/', async () => {
      await world().put(key('input/limits.txt'), text());
      const input = { kind: 'key', key: key('input/limits.txt') } as const;
      const ended = await world().count({ input, chunkSize: '1KiB' });
      expect(ended.error).toMatch(/chunkSize 1KiB is below the minimum of 64KiB/);
      expect(await world().jobRecords(outputKeys(input).summary)).toEqual([]);
    });

    it('counts again when forced, as a job of its own', async () => {
      const body = encoder.encode(text().slice(0, 4000));
      await world().put(key('input/forced.txt'), body);
      const input = { kind: 'key', key: key('input/forced.txt') } as const;
      const first = expectPublished(await world().count({ input }), [body]);
      const again = await world().count({ input });
      expect(again.summary?.jobId).toBe(first.jobId);
      const forced = expectPublished(await world().count({ input, force: true }), [body]);
      expect(forced.jobId).not.toBe(first.jobId);
    });

    it('publishes the newest version when the input is overwritten mid-job', async () => {
      const old = encoder.encode(`${distinctWords(200_000, 'old')}\n`);
      const newest = encoder.encode('the newest version of the text\n');
      const input = { kind: 'key', key: key('input/overwritten.txt') } as const;
      await world().put(input.key, old);
      const ended = await world().count({ input, chunkSize: '64KiB' }, async () => {
        await world().put(input.key, newest);
      });
      // The old job found the newer version (superseded), or finished first and was then
      // replaced by the newer one's job: either way the newest version is what is published.
      expect(['superseded', 'succeeded']).toContain(ended.status?.state);
      const latest = await world().count({ input });
      expectPublished(latest, [newest]);
      expect(latest.summary?.source.etag).not.toBe(ended.summary?.source.etag);
    }, 240_000);

    it('fails a job over a corrupt gzip object at once, naming the object', async () => {
      const gz = gzipSync(encoder.encode(text()));
      await world().put(key('input/corrupt.txt.gz'), gz.subarray(0, gz.length - 400));
      const ended = await world().count({
        input: { kind: 'key', key: key('input/corrupt.txt.gz') },
      });
      expect(ended.status?.state).toBe('failed');
      expect(ended.status?.reason).toMatch(/corrupt\.txt\.gz: not a valid gzip stream/);
      expect(ended.summary).toBeUndefined();
    });

    it('fails a job whose task fails on every delivery, publishing nothing', async () => {
      await world().put(key('input/failing.txt'), text());
      const ended = await world().countWithFailingTask({
        input: { kind: 'key', key: key('input/failing.txt') },
      });
      expect(ended.status?.state).toBe('failed');
      expect(ended.status?.reason).toMatch(/failed/);
      expect(ended.summary).toBeUndefined();
    });
  });
}
