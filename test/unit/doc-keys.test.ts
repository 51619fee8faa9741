/**
 * Document counts through the shuffle (lib/reduce/doc-keys.ts): marked lines land in
 * their word's partition, and a table holding words and their marked counts sorts into
 * three columns, the marked keys joined and never listed, whatever the partitioning.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountTable } from '../../lib/reduce/count-table.js';
import { DOC_MARK, markLines } from '../../lib/reduce/doc-keys.js';
import { EntryList } from '../../lib/reduce/entry-list.js';
import { mergePartials } from '../../lib/reduce/merge-partials.js';
import { partitionLines, partitionOf } from '../../lib/reduce/partition.js';
import { sortEntries, sortedLines } from '../../lib/reduce/sort-entries.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Words (no tab, newline or mark) with counts and documents (1 to count). */
const vocabulary = fc.uniqueArray(
  fc
    .tuple(
      fc
        .string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
        .filter((w) => !w.includes('\t') && !w.includes('\n') && !w.includes('\u001f')),
      fc.integer({ min: 1, max: 50 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
    )
    .map(([word, count, share]) => ({ word, count, docs: Math.max(1, Math.ceil(count * share)) })),
  { selector: (e) => e.word, minLength: 1, maxLength: 60 },
);

const linesOf = (rows: readonly { word: string; n: number }[]) =>
  encoder.encode(rows.map((r) => `${r.word}\t${r.n}\n`).join(''));

describe('document counts in the shuffle', () => {
  it('marks every line once and partitions a marked key with its word', () => {
    fc.assert(
      fc.property(vocabulary, fc.constantFrom(1, 3, 16, 1024), (words, partitions) => {
        const docs = markLines(linesOf(words.map((w) => ({ word: w.word, n: w.docs }))));
        expect(decoder.decode(docs)).toBe(words.map((w) => `\x1f${w.word}\t${w.docs}\n`).join(''));
        const { bytes, offsets } = partitionLines(docs, partitions);
        for (let p = 0; p < partitions; p++) {
          const part = decoder.decode(bytes.subarray(offsets[p], offsets[p + 1]));
          for (const line of part.split('\n').filter(Boolean)) {
            const word = encoder.encode(line.slice(1, line.indexOf('\t')));
            expect(partitionOf(word, 0, word.length, partitions)).toBe(p);
          }
        }
      }),
    );
  });

  it('joins each word to its documents, split across partials and partitions', () => {
    fc.assert(
      fc.property(vocabulary, fc.integer({ min: 1, max: 4 }), (words, parts) => {
        // Each word's count and documents cut into `parts` partials (some empty).
        const partials: Uint8Array[] = [];
        for (let k = 0; k < parts; k++) {
          const share = (n: number) => Math.floor(n / parts) + (k < n % parts ? 1 : 0);
          const counts = words.map((w) => ({ word: w.word, n: share(w.count) }));
          const docs = words.map((w) => ({ word: w.word, n: share(w.docs) }));
          const both = new Uint8Array([
            ...linesOf(counts.filter((r) => r.n > 0)),
            ...markLines(linesOf(docs.filter((r) => r.n > 0))),
          ]);
          partials.push(both);
        }
        const runs = partials.map((bytes, i) => {
          const split = partitionLines(bytes, 4);
          return { bytes: split.bytes, offsets: split.offsets, name: `partial ${i}` };
        });
        const { list, tokens } = mergePartials(runs, 0, 4, true);
        expect(tokens).toBe(words.reduce((sum, w) => sum + w.count, 0));
        expect(list.size).toBe(words.length);
        const tsv = [...sortedLines(sortEntries(list))].map((b) => decoder.decode(b)).join('');
        const expected = [...words]
          .sort(
            (a, b) => b.count - a.count || Buffer.compare(Buffer.from(a.word), Buffer.from(b.word)),
          )
          .map((w) => `${w.word}\t${w.count}\t${w.docs}\n`)
          .join('');
        expect(tsv).toBe(expected);
      }),
    );
  });

  it('refuses a word whose document count is missing, naming it', () => {
    const table = new CountTable();
    const line = encoder.encode('lonely\t3\n');
    table.addLines(line, 'a partial');
    expect(() => new EntryList().appendTable(table, true)).toThrow(
      "no document count for 'lonely' in the partials",
    );
    expect(DOC_MARK).toBe(0x1f);
  });
});
