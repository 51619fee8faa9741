/**
 * Corpora in their stored formats, written by the real writers (pyarrow, zstandard,
 * warcio, Python's json and gzip: scripts/corpus.py in .corpus/venv), and their oracle:
 * each record's text as Python's readers extract it, counted by the single-pass
 * reference counter (every mode) and by `str.split()` (whitespace).
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Mode } from '../../lib/tokenize.js';
import { corpusPy } from '../../scripts/corpus-venv.mjs';
import { countsTsvOf, singlePassCounts } from './oracle.js';

export interface Oracle {
  records: number;
  skipped: number;
  invalid: number;
  firstInvalid: { file: string; line: number } | null;
  /** Counter(text.split()) over every record's text. */
  whitespace: Record<string, number>;
  /** The records whose text.split() holds each word. */
  docFreq: Record<string, number>;
  /** Every record's text, each followed by a line feed. */
  text: Uint8Array;
}

export interface Corpus {
  dir: string;
  /** File names, in the order a job lists them (byte order). */
  names: string[];
  oracle(options?: { names?: readonly string[]; field?: string }): Promise<Oracle>;
  /** The counts file the oracle's text gives in `mode`. */
  expectedTsv(oracle: Oracle, mode: Mode): string;
}

const SAMPLES = ['samples/kjv-genesis.txt', 'samples/cjk-sample.txt'];

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Writes the corpus files into `dir` (see scripts/corpus.py write). */
export async function writeCorpus(
  dir: string,
  options: { docs?: number; seed?: number; field?: string } = {},
): Promise<Corpus> {
  await mkdir(dir, { recursive: true });
  corpusPy([
    'write',
    dir,
    '--docs',
    String(options.docs ?? 200),
    '--seed',
    String(options.seed ?? 1),
    '--field',
    options.field ?? 'text',
    '--text',
    ...SAMPLES,
  ]);
  const names = (await readdir(dir)).sort(byteOrder);
  return {
    dir,
    names,
    async oracle({ names: only = names, field = 'text' } = {}) {
      const out = join(dir, `../oracle-${field}-${only.length}.txt`);
      const printed = corpusPy([
        'texts',
        out,
        '--field',
        field,
        ...[...only].sort(byteOrder).map((n) => join(dir, n)),
      ]);
      return { ...(JSON.parse(printed) as Omit<Oracle, 'text'>), text: await readFile(out) };
    },
    expectedTsv: (oracle, mode) => countsTsvOf(singlePassCounts(mode, oracle.text)),
  };
}
