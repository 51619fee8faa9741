/**
 * Oracles of `--ngram N` and `--doc-freq`: Python's own `str.split()` over each line (an n-gram never
 * crosses a line's end), and the single-pass reference tokenizer of the kernel's rules
 * (reference-counter.ts) over each line, for `words` mode.
 */
import { spawnSync } from 'node:child_process';
import type { Mode } from '../../lib/tokenize.js';
import { countsTsvOf } from './oracle.js';
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

/**
 * The n-grams of `bytes` by the reference tokenizer, line by line; `bom`: a leading
 * byte-order mark is dropped (a file's text, not a record's).
 */
export function referenceNgrams(
  mode: Mode,
  bytes: Uint8Array,
  n: number,
  bom = true,
): ReferenceNgrams {
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
    const line = referenceTokens(mode, bytes.subarray(start, end), bom && start === 0);
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

const DOC_FREQ_SCRIPT = `
import json, sys
from collections import Counter
n = int(sys.argv[1])
counts, docs, documents = Counter(), Counter(), 0
for path in sys.argv[2:]:
    data = open(path, 'rb').read()
    if not data:
        continue  # an empty file is no task's: no document
    documents += 1
    if data.startswith(b'\\xef\\xbb\\xbf'):
        data = data[3:]
    grams = []
    for line in data.decode('utf-8', errors='replace').split('\\n'):
        tokens = line.split()
        grams += [' '.join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    counts.update(grams)
    docs.update(set(grams))
rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].encode('utf-8')))
json.dump({
    'documents': documents,
    'distinctWords': len(counts),
    'tsv': ''.join(f'{w}\\t{c}\\t{docs[w]}\\n' for w, c in rows),
}, sys.stdout)
`;

export interface PythonDocFreq {
  /** Non-empty files. */
  documents: number;
  distinctWords: number;
  /** The counts file of `--doc-freq`: word, count, documents. */
  tsv: string;
}

/**
 * Python's document frequency of whitespace tokens (n = 1) or n-grams over text files,
 * each file a document: `str.split()` line by line, `set()` per file.
 */
export function pythonDocFreq(paths: readonly string[], n = 1): PythonDocFreq {
  const run = spawnSync('python3', ['-c', DOC_FREQ_SCRIPT, String(n), ...paths], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (run.error) throw new Error(`python3 failed: ${run.error.message}`);
  if (run.status !== 0) throw new Error(`python3 exited with ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout) as PythonDocFreq;
}

/**
 * The counts file of `--doc-freq` by the reference, one document each: files (`bom`: a
 * leading BOM dropped) or records' texts.
 */
export function referenceDocFreqTsv(
  mode: Mode,
  documents: readonly Uint8Array[],
  n: number,
  bom = true,
): string {
  const counts = new Map<string, number>();
  const docs = new Map<string, number>();
  for (const bytes of documents) {
    const grams = referenceNgrams(mode, bytes, n, bom).counts;
    for (const [gram, count] of grams) {
      counts.set(gram, (counts.get(gram) ?? 0) + count);
      docs.set(gram, (docs.get(gram) ?? 0) + 1);
    }
  }
  return countsTsvOf(counts, docs);
}
