/**
 * The reduce side as pure functions: partition, merge, sort and the k-way merge of
 * sorted shards, each against an oracle that sums with a Map and sorts UTF-8 buffers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ShardSample } from '../../lib/contracts/tasks.js';
import { MalformedPartialError } from '../../lib/errors.js';
import { planFinalize } from '../../lib/job/tasks/finalize-task.js';
import { CountTable, writeDecimal } from '../../lib/reduce/count-table.js';
import { EntryList } from '../../lib/reduce/entry-list.js';
import { mergePartials, sortTable, topOfTable } from '../../lib/reduce/merge-partials.js';
import { mergeShards } from '../../lib/reduce/merge-shards.js';
import { compareUtf8, mergeTop } from '../../lib/reduce/order.js';
import {
  choosePartitions,
  chooseReduceTasks,
  groupPartitions,
  MAX_PARTITIONS,
  MIN_PARTITIONS,
  partitionLines,
  partitionOf,
} from '../../lib/reduce/partition.js';
import { radixSort64 } from '../../lib/reduce/radix-sort.js';
import { sortEntries, sortedLines } from '../../lib/reduce/sort-entries.js';
import { countsTsvOf, mergeEntries } from '../support/oracle.js';
import { concat, linesOf, partial, sumOf, text, word } from '../support/partials.js';

function tableOf(lines: Uint8Array): CountTable {
  const table = new CountTable(4);
  table.addLines(lines, 'test partial');
  return table;
}

async function collect(pieces: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const list: Uint8Array[] = [];
  for await (const p of pieces) list.push(p.slice());
  return concat(list);
}

async function* once(bytes: Uint8Array, pieceBytes: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += pieceBytes) yield bytes.slice(i, i + pieceBytes);
}

describe('CountTable and the output order', () => {
  it('sums any partials and writes them sorted exactly like the oracle', () => {
    fc.assert(
      fc.property(fc.array(partial, { maxLength: 6 }), (partials) => {
        const table = new CountTable(2);
        for (const p of partials) table.addLines(linesOf(p), 'partial');
        const expected = sumOf(partials);
        expect(table.size).toBe(expected.size);
        expect(table.total).toBe([...expected.values()].reduce((a, b) => a + b, 0));
        expect(text(concat(sortedLines(sortTable(table), { pieceBytes: 7 })))).toBe(
          countsTsvOf(expected),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('picks the top k keys without sorting the rest, ties at the cut included', () => {
    fc.assert(
      fc.property(fc.array(partial, { maxLength: 6 }), fc.nat(60), (partials, k) => {
        const table = new CountTable(2);
        for (const p of partials) table.addLines(linesOf(p), 'partial');
        expect(text(concat(sortedLines(topOfTable(table, k), { limit: k })))).toBe(
          text(concat(sortedLines(sortTable(table), { limit: k }))),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('keeps counts past 2^31 exact', () => {
    const table = tableOf(
      linesOf([
        ['a', 2 ** 31 - 1],
        ['a', 2 ** 31 - 1],
        ['a', 5],
      ]),
    );
    table.addLines(linesOf([['a', 2 ** 40]]), 'big');
    expect(text(concat(sortedLines(sortTable(table))))).toBe(
      `a\t${2 * (2 ** 31 - 1) + 5 + 2 ** 40}\n`,
    );
  });

  it('orders a key before the longer keys it is a prefix of, NUL bytes included', () => {
    const words = [
      'ab',
      'ab\u0000',
      'ab\u0000\u0000',
      'abcdefgh',
      'abcdefgh\u0000',
      'abcdefghi',
      'abcdefgha',
    ];
    const table = tableOf(linesOf(words.map((w) => [w, 1] as const)));
    expect(text(concat(sortedLines(sortTable(table))))).toBe(
      countsTsvOf(new Map(words.map((w) => [w, 1]))),
    );
  });

  it('stops after `limit` lines', () => {
    const table = tableOf(
      linesOf([
        ['a', 3],
        ['b', 2],
        ['c', 1],
      ]),
    );
    expect(text(concat(sortedLines(sortTable(table), { limit: 2 })))).toBe('a\t3\nb\t2\n');
  });

  it('rejects malformed lines, naming the partial and the byte', () => {
    const bad = (s: string) => () => tableOf(new TextEncoder().encode(s));
    expect(bad('oops\n')).toThrow(MalformedPartialError);
    expect(bad('oops\n')).toThrow(/test partial: malformed line at byte 0: no tab/);
    expect(bad('a\t1\n\t2\n')).toThrow(/at byte 4: an empty key/);
    expect(bad('a\t0\n')).toThrow(/not a positive integer/);
    expect(bad('a\tx\n')).toThrow(/not a positive integer/);
    expect(bad('a\t1')).toThrow(/not a positive integer followed by a newline/);
  });

  it('empties on reset and counts again', () => {
    const table = tableOf(linesOf([['a', 1]]));
    table.reset();
    table.addLines(linesOf([['b', 2]]), 'again');
    expect(text(concat(sortedLines(sortTable(table))))).toBe('b\t2\n');
  });

  it('writes decimal numbers up to 2^53', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        const out = new Uint8Array(20);
        expect(text(out.subarray(0, writeDecimal(n, out, 0)))).toBe(String(n));
      }),
    );
  });

  it('sorts an empty list to nothing', () => {
    expect([...sortedLines(sortEntries(new EntryList()))]).toEqual([]);
  });

  it('radix-sorts 64-bit keys exactly as the native sort, digits every key shares included', () => {
    const u32 = fc.oneof(
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.constantFrom(0, 1, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(u32, u32), { maxLength: 300 }),
        fc.integer({ min: 0, max: 15 }),
        (pairs, shared) => {
          // Bit d of `shared`: 16-bit digit d (0-1 of the low word, 2-3 of the high) is one value.
          const digits = (w: number, first: number) => {
            let v = w;
            if (shared & (1 << first)) v = (v & 0xffff0000) | 0x1234;
            if (shared & (1 << (first + 1))) v = (v & 0xffff) | 0xabcd0000;
            return v >>> 0;
          };
          const keys = new Uint32Array(pairs.flatMap(([lo, hi]) => [digits(lo, 0), digits(hi, 2)]));
          const expected = keys.slice();
          new BigUint64Array(expected.buffer).sort();
          radixSort64(keys, new Uint32Array(keys.length + 6));
          expect(keys).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes big groups of words (radix-sorted) in output order, longer keys among them', () => {
    const table = new CountTable();
    const expected = new Map<string, number>();
    const add = (key: string, count: number) => {
      const bytes = new TextEncoder().encode(key);
      table.add(bytes, new DataView(bytes.buffer), 0, bytes.length, count);
      expected.set(key, (expected.get(key) ?? 0) + count);
    };
    for (let i = 0; i < 150_000; i++) {
      const key = `w${(Math.imul(i, 0x9e3779b1) >>> 0).toString(36)}`;
      add(i % 1000 === 0 ? `${key}-longer` : key, i % 2 === 0 ? 1 : 2);
    }
    for (const w of ['the', 'and', 'of']) add(w, 70_000);
    const lines = text(concat(sortedLines(sortTable(table), { pieceBytes: 4096 }))).split('\n');
    const want = countsTsvOf(expected).split('\n');
    // The first wrong line, not a diff of 150,000 lines.
    const firstWrong = want.findIndex((line, i) => lines[i] !== line);
    expect({ lines: lines.length, firstWrong }).toEqual({ lines: want.length, firstWrong: -1 });
  });
});

describe('partitioning', () => {
  it('puts each line in the partition of its key, once, for any P', () => {
    fc.assert(
      fc.property(partial, fc.integer({ min: 1, max: 70 }), (entries, partitions) => {
        const lines = linesOf(entries);
        const { bytes, offsets } = partitionLines(lines, partitions);
        expect(offsets).toHaveLength(partitions + 1);
        expect(offsets[partitions]).toBe(lines.length);
        const seen: string[] = [];
        for (let p = 0; p < partitions; p++) {
          const part = bytes.subarray(offsets[p], offsets[p + 1]);
          for (const line of text(part).split('\n').filter(Boolean)) {
            const key = new TextEncoder().encode(line.slice(0, line.lastIndexOf('\t')));
            expect(partitionOf(key, 0, key.length, partitions)).toBe(p);
            seen.push(line);
          }
        }
        expect(seen.sort()).toEqual(text(lines).split('\n').filter(Boolean).sort());
      }),
    );
  });

  it('chooses P from the input size, between its bounds, a power of two', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 45 }), (bytes) => {
        const p = choosePartitions(bytes);
        expect(p).toBeGreaterThanOrEqual(MIN_PARTITIONS);
        expect(p).toBeLessThanOrEqual(MAX_PARTITIONS);
        expect(Math.log2(p) % 1).toBe(0);
      }),
    );
    expect(choosePartitions(1000)).toBe(MIN_PARTITIONS);
    expect(choosePartitions(2 ** 40)).toBe(MAX_PARTITIONS);
  });

  it('groups partitions into contiguous runs covering them all', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 64 }),
        fc.integer({ min: 1, max: 80 }),
        (sizes, groups) => {
          const runs = groupPartitions(sizes, groups);
          expect(runs.length).toBeGreaterThanOrEqual(1);
          expect(runs.length).toBeLessThanOrEqual(Math.min(groups, sizes.length));
          let next = 0;
          for (const [from, to] of runs) {
            expect(from).toBe(next);
            expect(to).toBeGreaterThan(from);
            next = to;
          }
          expect(next).toBe(sizes.length);
        },
      ),
    );
  });

  it('runs as many reduce tasks as fit the size and the fan-out, never more than P', () => {
    const MiB = 2 ** 20;
    expect(chooseReduceTasks(0, 16, 8)).toBe(1);
    expect(chooseReduceTasks(70 * MiB, 256, 8)).toBe(8);
    expect(chooseReduceTasks(280 * MiB, 1024, 2)).toBe(6); // 5 by size, in whole waves of 2
    expect(chooseReduceTasks(200 * MiB, 1024, 2)).toBe(4);
    expect(chooseReduceTasks(10 * MiB, 16, 64)).toBe(3);
    expect(chooseReduceTasks(100 * 1024 * MiB, 1024, 64)).toBe(1024);
  });
});

describe('the shuffle end to end', () => {
  it('partition + merge + k-way merge of sorted shards equal the single-pass counts file', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(partial, { maxLength: 6 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 64 }),
        async (partials, partitions, reducers, pieceBytes) => {
          const outputs = partials.map((p) => partitionLines(linesOf(p), partitions));
          const sizes = Array.from({ length: partitions }, (_, p) =>
            outputs.reduce(
              (n, o) => n + (o.offsets[p + 1] as number) - (o.offsets[p] as number),
              0,
            ),
          );
          const shards = groupPartitions(sizes, reducers).map(([from, to], r) => {
            const runs = outputs.map((o, i) => {
              const start = o.offsets[from] as number;
              return {
                bytes: o.bytes.subarray(start, o.offsets[to]),
                offsets: o.offsets.slice(from, to + 1).map((x) => x - start),
                name: `output ${i}`,
              };
            });
            const { list } = mergePartials(runs, from, to);
            return { name: `shard ${r}`, bytes: concat(sortedLines(sortEntries(list))) };
          });
          const merged = await collect(
            mergeShards(
              shards.map((s) => ({ name: s.name, pieces: once(s.bytes, pieceBytes) })),
              { pieceBytes: 16 },
            ),
          );
          expect(text(merged)).toBe(countsTsvOf(sumOf(partials)));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('merges shards in any piece size, lines cut anywhere', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(word, fc.integer({ min: 1, max: 9 })), { maxLength: 50 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 9 }),
        async (entries, k, pieceBytes) => {
          const shards: Map<string, number>[] = Array.from({ length: k }, () => new Map());
          for (const [w, c] of entries) {
            const home =
              shards.find((s) => s.has(w)) ?? (shards[w.length % k] as Map<string, number>);
            home.set(w, (home.get(w) ?? 0) + c);
          }
          const merged = await collect(
            mergeShards(
              shards.map((s, i) => ({
                name: `s${i}`,
                pieces: once(new TextEncoder().encode(countsTsvOf(s)), pieceBytes),
              })),
              { pieceBytes: 3 },
            ),
          );
          const all = new Map<string, number>();
          for (const s of shards) for (const [w, c] of s) all.set(w, c);
          expect(text(merged)).toBe(countsTsvOf(all));
        },
      ),
    );
  });

  it('names the shard that ends inside a line', async () => {
    const pieces = once(new TextEncoder().encode('a\t2\nb\t1'), 3);
    await expect(collect(mergeShards([{ name: 'jobs/x/reduce/0.tsv', pieces }]))).rejects.toThrow(
      /jobs\/x\/reduce\/0.tsv: ends inside a line/,
    );
  });
});

describe('the parallel finalize', () => {
  it('splits output order so the parts, concatenated, are the whole merge, for any number of tasks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(partial, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 8, max: 64 }),
        async (partials, tasks, pieceBytes, sampleBytes) => {
          // Each partial, summed on its own, is a shard sorted in output order (words may
          // repeat across shards here; the parts must still add up to the merge).
          const shards = partials.map((p, i) => {
            const bytes = concat(
              sortedLines(sortTable(tableOf(linesOf(p))), { pieceBytes: sampleBytes }),
            );
            const samples: ShardSample[] = [];
            for (let o = 0; o < bytes.length; ) {
              const nl = bytes.indexOf(10, o);
              const tab = bytes.lastIndexOf(9, nl);
              if (samples.length === 0 || o - (samples.at(-1)?.offset ?? 0) >= sampleBytes) {
                samples.push({
                  offset: o,
                  count: Number(text(bytes.subarray(tab + 1, nl))),
                  word: text(bytes.subarray(o, tab)),
                });
              }
              o = nl + 1;
            }
            return { key: `s${i}`, bytes, samples };
          });
          const all = await collect(
            mergeShards(shards.map((s) => ({ name: s.key, pieces: once(s.bytes, pieceBytes) }))),
          );
          const plans = planFinalize(
            shards.map((s) => ({ key: s.key, bytes: s.bytes.length, samples: s.samples })),
            tasks,
          );
          expect(plans.length).toBeLessThanOrEqual(tasks);
          const parts: Uint8Array[] = [];
          for (const plan of plans) {
            const bound = (p?: ShardSample) =>
              p && { count: p.count, key: new TextEncoder().encode(p.word) };
            const windows = plan.shards.map((w, i) => ({
              name: w.key,
              pieces: once(
                (shards[i] as { bytes: Uint8Array }).bytes.subarray(w.start, w.end),
                pieceBytes,
              ),
            }));
            parts.push(
              await collect(mergeShards(windows, { from: bound(plan.from), to: bound(plan.to) })),
            );
          }
          expect(text(concat(parts))).toBe(text(all));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('ordering helpers', () => {
  it('compares strings by their UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        const bytes = Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
        expect(Math.sign(compareUtf8(a, b))).toBe(bytes);
      }),
      { numRuns: 2000 },
    );
    // UTF-16 order puts U+FF5E after U+1F600's surrogates; UTF-8 order does the opposite.
    expect(compareUtf8('\uff5e', '😀')).toBeLessThan(0);
  });

  it('merges the top lists of disjoint partitions into the global top', () => {
    fc.assert(
      fc.property(
        fc.dictionary(word, fc.integer({ min: 1, max: 5 })),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 1, max: 4 }),
        (dict, k, lists) => {
          const all = new Map(Object.entries(dict));
          const tops = Array.from({ length: lists }, (_, i) => {
            const mine = new Map([...all].filter(([w]) => w.length % lists === i));
            const tsv = countsTsvOf(mine);
            const parsed = new Map<string, number>();
            mergeEntries(parsed, tsv);
            return [...parsed].map(([w, c]) => ({ word: w, count: c })).slice(0, k);
          });
          const expected = countsTsvOf(all).split('\n').filter(Boolean).slice(0, k);
          expect(mergeTop(tops, k).map((t) => `${t.word}\t${t.count}`)).toEqual(expected);
        },
      ),
    );
  });
});
