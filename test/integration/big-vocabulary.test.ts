/**
 * A vocabulary bigger than any one V8 Map can hold (2^24 entries): the CLI counts it
 * exactly on the embedded backend, and no process holds every distinct word. Takes
 * tens of seconds; the file is ~180 MB in the temporary directory.
 */
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SummarySchema } from '../../lib/contracts/summary.js';
import { runCli } from '../support/cli.js';

const MAP_LIMIT = 2 ** 24;
const DISTINCT = 17_000_000;
const FREQUENT = ['the', 'and', 'of', 'to', 'that', 'in', 'he', 'shall', 'unto', 'for'];
const REPEATS = 1_000_000;

let dir: string;

/** Distinct tokens 'v' + a bijection of i in base 36, every so often a frequent word. */
function writeCorpus(path: string): void {
  const fd = openSync(path, 'w');
  const buf = Buffer.allocUnsafe(1 << 22);
  let o = 0;
  let frequent = 0;
  for (let i = 0; i < DISTINCT; i++) {
    o += buf.write(`v${(Math.imul(i, 0x9e3779b1) >>> 0).toString(36)}`, o, 'latin1');
    buf[o++] = i % 16 === 15 ? 10 : 32;
    // Spread FREQUENT.length * REPEATS occurrences evenly over the file.
    while (frequent < Math.floor(((i + 1) * FREQUENT.length * REPEATS) / DISTINCT)) {
      o += buf.write(FREQUENT[frequent % FREQUENT.length] as string, o, 'latin1');
      buf[o++] = 32;
      frequent++;
    }
    if (o > buf.length - 256) {
      writeSync(fd, buf, 0, o);
      o = 0;
    }
  }
  writeSync(fd, buf, 0, o);
  closeSync(fd);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wordcount-vocabulary-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

it(`counts ${DISTINCT.toLocaleString('en')} distinct tokens, past V8's Map limit, exactly`, async () => {
  const corpus = join(dir, 'vocabulary.txt');
  writeCorpus(corpus);
  const counts = join(dir, 'counts.tsv');
  const run = await runCli([
    'count',
    corpus,
    '--mode',
    'whitespace',
    '--workers',
    '2',
    '--json',
    '--counts',
    counts,
  ]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const summary = SummarySchema.parse(JSON.parse(run.stdout));
  expect(DISTINCT).toBeGreaterThan(MAP_LIMIT);
  expect(summary.distinctWords).toBe(DISTINCT + FREQUENT.length);
  expect(summary.totalWords).toBe(DISTINCT + FREQUENT.length * REPEATS);
  expect(summary.stats.reduceTasks).toBeGreaterThan(1);
  expect(summary.top.map((t) => t.count)).toEqual([
    ...Array(FREQUENT.length).fill(REPEATS),
    ...Array(20 - FREQUENT.length).fill(1),
  ]);

  // The counts file, streamed: every frequent word with its count, then every distinct
  // token once with count 1, in output order (count descending, then bytes).
  let lines = 0;
  let sum = 0;
  let previous: { count: number; key: Buffer } | undefined;
  let carry = Buffer.alloc(0);
  const frequentSeen = new Map<string, number>();
  for await (const chunk of createReadStream(counts, { highWaterMark: 1 << 20 })) {
    const data = Buffer.concat([carry, chunk as Buffer]);
    let pos = 0;
    for (let nl = data.indexOf(10, pos); nl >= 0; nl = data.indexOf(10, pos)) {
      const tab = data.lastIndexOf(9, nl);
      const key = data.subarray(pos, tab);
      const count = Number(data.toString('latin1', tab + 1, nl));
      if (previous) {
        const ordered =
          count < previous.count ||
          (count === previous.count && Buffer.compare(previous.key, key) < 0);
        if (!ordered)
          throw new Error(`line ${lines + 1} is out of order: ${data.toString('latin1', pos, nl)}`);
      }
      if (key[0] === 0x76 /* v */) {
        if (count !== 1) throw new Error(`${key.toString('latin1')} counted ${count} times`);
      } else frequentSeen.set(key.toString('latin1'), count);
      previous = { count, key: Buffer.from(key) };
      lines++;
      sum += count;
      pos = nl + 1;
    }
    carry = data.subarray(pos);
  }
  expect(carry.length).toBe(0);
  expect(lines).toBe(DISTINCT + FREQUENT.length);
  expect(sum).toBe(summary.totalWords);
  expect(Object.fromEntries(frequentSeen)).toEqual(
    Object.fromEntries(FREQUENT.map((w) => [w, REPEATS])),
  );
}, 300_000);
