/**
 * A tokenizer trained from our counts: `wordcount count --mode whitespace --counts` over
 * Genesis (KJV), fanned out over small chunks and 2 workers, then the real SentencePiece
 * (scripts/corpus-requirements.txt, in .corpus/venv) trains a BPE model from the counts
 * file as TSV input. It must be the model trained from Python's own
 * `Counter(text.split())` of the same text, written in another order, and the model
 * trained from the text itself; the models encode verses held out of training alike,
 * and decoding gives the verses back.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Summary, SummarySchema } from '../../lib/contracts/summary.js';
import { ensureCorpusVenv } from '../../scripts/corpus-venv.mjs';
import { runCli } from '../support/cli.js';

const GENESIS = new URL('../../samples/kjv-genesis.txt', import.meta.url).pathname;
const fixture = new URL('../fixtures/sentencepiece_roundtrip.py', import.meta.url).pathname;
const VOCAB_SIZE = 1000;
/** Genesis's last verses (chapter 50) are held out of training. */
const HELD_OUT_LINES = 26;
/** Characters Genesis never uses: each model knows none of them. */
const UNSEEN = 'Zoë paid €5 for the café 😀';

interface Encoding {
  ids: number[];
  pieces: string[];
  decoded: string;
}
interface Model {
  vocab: [string, number][];
  unkId: number;
  encodings: Encoding[];
}
interface Trained {
  version: string;
  pythonTsv: string;
  models: { ours: Model; python: Model; text: Model };
}

let dir: string;
let summary: Summary;
let ours: string;
let python: string;
let heldOut: string[];
let trained: Trained;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wordcount-sentencepiece-'));
  const lines = (await readFile(GENESIS, 'utf8')).split('\n').filter(Boolean);
  expect(lines.at(-HELD_OUT_LINES)).toMatch(/^Ge50:1 /);
  const training = join(dir, 'genesis-1-49.txt');
  await writeFile(training, `${lines.slice(0, -HELD_OUT_LINES).join('\n')}\n`);
  // The verses without their references ("Ge50:1 ").
  heldOut = lines.slice(-HELD_OUT_LINES).map((line) => line.replace(/^\S+ /, ''));

  const counts = join(dir, 'counts.tsv');
  const run = await runCli([
    'count',
    training,
    '--mode',
    'whitespace',
    '--chunk-size',
    '4KiB',
    '--workers',
    '2',
    '--json',
    '--counts',
    counts,
  ]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  summary = SummarySchema.parse(JSON.parse(run.stdout));
  ours = await readFile(counts, 'utf8');

  const printed = execFileSync(
    ensureCorpusVenv(),
    [fixture, counts, training, dir, String(VOCAB_SIZE)],
    { input: JSON.stringify([...heldOut, UNSEEN]), maxBuffer: 1 << 28 },
  ).toString();
  trained = JSON.parse(printed) as Trained;
  python = await readFile(trained.pythonTsv, 'utf8');
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const linesOf = (tsv: string) => tsv.split('\n').filter(Boolean).sort();

describe('a SentencePiece BPE model trained from --counts', () => {
  it('counts in many map tasks on 2 workers', () => {
    expect(summary.stats.concurrency).toBe(2);
    expect(summary.chunks).toBeGreaterThan(40);
    expect(summary.distinctWords).toBeGreaterThan(5000);
  });

  it("writes the lines of Python's Counter(text.split()), in another order", () => {
    expect(linesOf(ours)).toEqual(linesOf(python));
    expect(ours.split('\n').filter(Boolean)).toHaveLength(summary.distinctWords);
    // Counter.most_common() breaks ties by first occurrence, ours by the word's UTF-8
    // bytes: the files differ byte for byte, so the models below are trained from two
    // orders of the same lines.
    expect(python).not.toBe(ours);
  });

  it("is the model trained from Python's counts: the same pieces and scores, id by id", () => {
    // BPE training does not depend on the order of the TSV lines. SentencePiece 0.2.3
    // (split_by_whitespace, the default) sums the lines' words into a table and sorts it
    // by frequency, then by the word, before training, and takes each merge by frequency,
    // then the shorter piece, then the piece's text: an order with no ties. Tried on 8
    // orders of these lines (ours, most_common, by word, reversed, shuffled) at 300, 1000
    // and 4000 pieces: one model.
    const { ours: fromOurs, python: fromPython } = trained.models;
    expect(fromOurs.vocab).toHaveLength(VOCAB_SIZE);
    expect(fromOurs.vocab).toEqual(fromPython.vocab);
    // BPE's pieces: the merges (scored by merge order), then the characters.
    expect(fromOurs.vocab.slice(0, 3).map(([piece]) => piece)).toEqual(['<unk>', '<s>', '</s>']);
    expect(fromOurs.vocab.map(([piece]) => piece)).toContain('▁the');
  });

  it('is the model trained from the text itself: the counts are all BPE needs', () => {
    expect(trained.models.ours.vocab).toEqual(trained.models.text.vocab);
  });

  it('encodes held-out verses to the same pieces, and decodes them back', () => {
    const { ours: fromOurs, python: fromPython, text: fromText } = trained.models;
    expect(fromOurs.encodings).toEqual(fromPython.encodings);
    expect(fromOurs.encodings).toEqual(fromText.encodings);
    heldOut.forEach((verse, i) => {
      const { ids, pieces, decoded } = fromOurs.encodings[i] as Encoding;
      expect(pieces.length, verse).toBeGreaterThan(0);
      expect(pieces, verse).not.toContain('');
      expect(ids, verse).not.toContain(fromOurs.unkId);
      // Merged pieces, not one per character.
      expect(pieces.length, verse).toBeLessThan(verse.replace(/\s/g, '').length / 2);
      expect(pieces.join('').replaceAll('▁', ' ').trim(), verse).toBe(verse);
      // SentencePiece normalises whitespace runs to one space (NFKC leaves ASCII as is).
      expect(decoded, verse).toBe(verse.trim().split(/\s+/).join(' '));
    });
  });

  it('encodes characters it never saw as unknown, in every model alike', () => {
    const [fromOurs, fromPython] = [trained.models.ours, trained.models.python];
    const unseen = fromOurs.encodings.at(-1) as Encoding;
    expect(unseen).toEqual(fromPython.encodings.at(-1));
    expect(unseen.ids).toContain(fromOurs.unkId);
    expect(unseen.decoded).not.toBe(UNSEEN);
  });
});
