/**
 * The JSON Lines record split: a range owns the lines whose first byte it holds, read
 * from the byte before it and past its end until its last line ends. Whatever the range
 * boundaries and read piece sizes, and with lines far longer than a range, every line is
 * read by exactly one range, and the ranges together read what one reader of the whole
 * stream reads.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonField } from '../../lib/records/json-field.js';
import { JsonlReader, type RecordSink } from '../../lib/records/jsonl.js';
import { emptyRecordStats, type RecordStats } from '../../lib/records/record-stats.js';

const decoder = new TextDecoder();

class Collect implements RecordSink {
  bytes = new Uint8Array(1024);
  length = 0;
  readonly records: string[] = [];
  reserve(n: number) {
    if (this.length + n > this.bytes.length) {
      const grown = new Uint8Array(2 * (this.length + n));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    return { bytes: this.bytes, at: this.length };
  }
  advance(n: number) {
    this.length += n;
  }
  endRecord() {
    this.records.push(decoder.decode(this.bytes.subarray(0, this.length)));
    this.length = 0;
    return undefined;
  }
}

/** Reads [start, end) of `data` as a task does: from start - 1, in pieces, until done. */
async function readRange(data: Uint8Array, start: number, end: number, pieces: number[]) {
  const text = new Collect();
  const stats = emptyRecordStats();
  const from = Math.max(0, start - 1);
  const reader = new JsonlReader(
    { field: new JsonField('text'), text, stats, strict: false, uri: 'mem' },
    { from, start, end },
  );
  let at = from;
  let i = 0;
  let read = 0;
  while (!reader.done && at < data.length) {
    const size = pieces[i++ % pieces.length] as number;
    const piece = data.subarray(at, at + size);
    read += piece.length;
    at += piece.length;
    await reader.push(piece);
  }
  await reader.end();
  return { records: text.records, stats, read };
}

const line = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((t) => JSON.stringify({ text: t })),
  },
  {
    weight: 1,
    arbitrary: fc
      .string({ maxLength: 400 })
      .map((t) => JSON.stringify({ id: 1, text: t.repeat(5) })),
  },
  { weight: 1, arbitrary: fc.constantFrom('', '  ', 'not json', '{"text": 1}', '[]', '{"id": 2}') },
);

describe('JSON Lines ranges', () => {
  it('read every line exactly once, as one reader of the whole stream does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { maxLength: 40 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 5 }),
        async (lines, lastFeed, cuts, pieces) => {
          const data = new TextEncoder().encode(lines.join('\n') + (lastFeed ? '\n' : ''));
          const whole = await readRange(data, 0, data.length, [data.length + 1]);
          const bounds = [0];
          for (const c of cuts) {
            const next = (bounds[bounds.length - 1] as number) + c;
            if (next < data.length) bounds.push(next);
          }
          bounds.push(data.length);
          const records: string[] = [];
          const sum: RecordStats = emptyRecordStats();
          for (let r = 0; r + 1 < bounds.length; r++) {
            const got = await readRange(data, bounds[r] as number, bounds[r + 1] as number, pieces);
            records.push(...got.records);
            for (const k of ['records', 'skippedRecords', 'invalidRecords', 'lines'] as const)
              sum[k] += got.stats[k];
          }
          expect(records).toEqual(whole.records);
          expect(sum.records).toBe(whole.stats.records);
          expect(sum.skippedRecords).toBe(whole.stats.skippedRecords);
          expect(sum.invalidRecords).toBe(whole.stats.invalidRecords);
          expect(sum.lines).toBe(whole.stats.lines);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads no further than its own bytes when no line starts in it (inside a long line)', async () => {
    const long = JSON.stringify({ text: 'x '.repeat(100_000) });
    const data = new TextEncoder().encode(`${long}\n{"text":"after"}\n`);
    const got = await readRange(data, 1000, 2000, [64]);
    expect(got.records).toEqual([]);
    expect(got.read).toBeLessThanOrEqual(1001 + 64);
    const last = await readRange(data, long.length - 10, long.length + 5, [64]);
    expect(last.records).toEqual(['after']);
  });
});
