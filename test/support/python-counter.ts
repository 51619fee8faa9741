/**
 * The whitespace oracle run by Python itself: the seed article's `Counter(text.split())`
 * over a file decoded as UTF-8 with invalid bytes replaced (a leading BOM dropped), its
 * rows kept when counted at least `minCount` times and ordered as `--counts` orders them
 * (count descending, then the word's UTF-8 bytes).
 */
import { spawnSync } from 'node:child_process';

const SCRIPT = `
import json, sys
from collections import Counter
data = open(sys.argv[1], 'rb').read()
if data.startswith(b'\\xef\\xbb\\xbf'):
    data = data[3:]
counts = Counter(data.decode('utf-8', errors='replace').split())
n = int(sys.argv[2])
rows = sorted(((w, c) for w, c in counts.items() if c >= n), key=lambda kv: (-kv[1], kv[0].encode('utf-8')))
json.dump({
    'totalWords': sum(counts.values()),
    'distinctWords': len(counts),
    'keptWords': len(rows),
    'maxCount': max(counts.values(), default=0),
    'tsv': ''.join(f'{w}\\t{c}\\n' for w, c in rows),
}, sys.stdout)
`;

export interface PythonCounts {
  totalWords: number;
  distinctWords: number;
  keptWords: number;
  maxCount: number;
  /** The counts file of the words counted at least minCount times. */
  tsv: string;
}

/** Python's counts of the file at `path`, pruned at `minCount` (1 keeps every word). */
export function pythonCounts(path: string, minCount = 1): PythonCounts {
  const run = spawnSync('python3', ['-c', SCRIPT, path, String(minCount)], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (run.error) throw new Error(`python3 failed: ${run.error.message}`);
  if (run.status !== 0) throw new Error(`python3 exited with ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout) as PythonCounts;
}
