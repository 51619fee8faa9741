/**
 * Oracles of `--ngram N`: Python's own `str.split()` over each line (an n-gram never
 * crosses a line's end), and the single-pass reference tokenizer of the kernel's rules
 * (reference-counter.ts) over each line, for `words` mode.
 */
import { spawnSync } from 'node:child_process';
import type { Mode } from '../../lib/tokenize.js';
import { referenceTokens } from './reference-counter.js';

const SCRIPT = `
import json, sys
from collections import Counter
data = open(sys.argv[1], 'rb').read()
n = int(sys.argv[2])
if sys.argv[3] == 'bom' and data.startswith(b'\\xef\\xbb\\xbf'):
    data = data[3:]
grams = Counter()
for line in data.decode('utf-8', errors='replace').split('\\n'):
    tokens = line.split()
    for i in range(len(tokens) - n + 1):
        grams[' '.join(tokens[i:i + n])] += 1
rows = sorted(grams.items(), key=lambda kv: (-kv[1], kv[0].encode('utf-8')))
json.dump({
    'totalWords': sum(grams.values()),
    'distinctWords': len(grams),
    'tsv': ''.join(f'{w}\\t{c}\\n' for w, c in rows),
}, sys.stdout)
`;

export interface PythonNgrams {
  totalWords: number;
  distinctWords: number;
  /** The counts file Python's n-grams make (count descending, then UTF-8 bytes). */
  tsv: string;
}

/**
 * Python's n-grams of whitespace tokens, line by line, of the file at `path`. `bom`: a
 * leading byte-order mark is dropped (a text file; not a stream of records' texts).
 */
export function pythonNgrams(path: string, n: number, bom = true): PythonNgrams {
  const run = spawnSync('python3', ['-c', SCRIPT, path, String(n), bom ? 'bom' : 'none'], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (run.error) throw new Error(`python3 failed: ${run.error.message}`);
  if (run.status !== 0) throw new Error(`python3 exited with ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout) as PythonNgrams;
}

export interface ReferenceNgrams {
  counts: Map<string, number>;
  total: number;
  invalidSequences: number;
  longTokens: number;
}

/** The n-grams of `bytes` by the reference tokenizer, line by line (a file: BOM dropped). */
export function referenceNgrams(mode: Mode, bytes: Uint8Array, n: number): ReferenceNgrams {
  const result: ReferenceNgrams = {
    counts: new Map(),
    total: 0,
    invalidSequences: 0,
    longTokens: 0,
  };
  let start = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const line = referenceTokens(mode, bytes.subarray(start, end), start === 0);
    result.invalidSequences += line.invalidSequences;
    result.longTokens += line.longTokens;
    for (let i = 0; i + n <= line.tokens.length; i++) {
      const gram = line.tokens.slice(i, i + n).join(' ');
      result.counts.set(gram, (result.counts.get(gram) ?? 0) + 1);
      result.total++;
    }
    start = end + 1;
  }
  return result;
}
