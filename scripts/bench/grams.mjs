/**
 * The grams section: what users compute after word counts. On 256 MB of prose (the King
 * James Bible repeated), `--ngram 2` against plain words mode and awk's bigram count;
 * on the same text as 64 files (a file is a document), `--doc-freq` against plain words
 * mode; and trigrams of 1 GB checked exactly: 2 workers in 16 MiB tasks against 1
 * worker in tasks of 1 GiB (the biggest chunk), and a 20 MB sample against Python's
 * own `str.split()` line by line.
 */

import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join, relative } from 'node:path';
import { bibleText, ensureFile, ensureRepeated, warmPageCache } from './data.mjs';
import {
  fixed,
  log,
  MiB,
  markdownTable,
  measure,
  runCases,
  scratch,
  wordcountCase as wordcountCaseOf,
} from './measure.mjs';

const PROSE_BYTES = 256 * MiB;
const FILES = 64;
const BIG_BYTES = 1024 * MiB;
const SAMPLE_BYTES = 20 * MiB;

const TARGETS = {
  /** --ngram 2 and --doc-freq, 2 workers: at most this many times plain words mode's time. */
  vsWords: 2,
};

const AWK_BIGRAMS = '{for(i=1;i<NF;i++) c[$i" "$(i+1)]++} END{for(k in c) n++; print n}';

const PYTHON_TRIGRAMS = `
import sys
from collections import Counter
grams = Counter()
for line in open(sys.argv[1], 'rb').read().decode('utf-8', errors='replace').split('\\n'):
    t = line.split()
    for i in range(len(t) - 2):
        grams[' '.join(t[i:i + 3])] += 1
rows = sorted(grams.items(), key=lambda kv: (-kv[1], kv[0].encode('utf-8')))
sys.stdout.write(''.join(f'{w}\\t{c}\\n' for w, c in rows))
`;

/** `text` cut at line ends into `n` files of about equal size under `dir`. */
function ensureFiles(dir, text, n, root) {
  mkdirSync(dir, { recursive: true });
  const per = Math.ceil(text.length / n);
  const paths = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    let end = Math.min(text.length, at + per);
    const nl = text.indexOf(10, end);
    end = i === n - 1 || nl < 0 ? text.length : nl + 1;
    const path = join(dir, `part-${String(i).padStart(3, '0')}.txt`);
    const piece = text.subarray(at, end);
    ensureFile(
      path,
      piece.length,
      (fd) => {
        for (let off = 0; off < piece.length; ) off += writeSync(fd, piece, off);
      },
      root,
    );
    paths.push(path);
    at = end;
  }
  return paths;
}

const sha = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Runs the section; returns its markdown lines, its correctness checks and its targets. */
export async function gramsSection({ cli, root, dataDir, runs }) {
  const wordcountCase = (name, files, mode, workers, extra = []) =>
    wordcountCaseOf(cli, name, files, mode, workers, ['--top', '3', ...extra]);
  const bible = Buffer.from(bibleText());
  const proseFile = join(dataDir, 'kjv-256m.txt');
  const { bytes: proseBytes } = ensureRepeated(proseFile, bible, PROSE_BYTES, root);
  const files = ensureFiles(
    join(dataDir, `kjv-256m-${FILES}-files`),
    readFileSync(proseFile),
    FILES,
    root,
  );
  warmPageCache(proseFile);
  for (const f of files) warmPageCache(f);
  const out = [];

  log(`grams: ${relative(root, proseFile)} (${(proseBytes / 1e6).toFixed(1)} MB), ${runs} run(s)`);
  const awkCase = {
    name: 'awk bigram count (whitespace)',
    command: 'awk',
    args: [AWK_BIGRAMS, proseFile],
    parse: (stdout) => ({ distinctWords: Number(stdout.trim()) }),
  };
  const cases = runCases(
    [
      wordcountCase('words, 2 workers', [proseFile], 'words', 2),
      wordcountCase('words --ngram 2, 2 workers', [proseFile], 'words', 2, ['--ngram', '2']),
      wordcountCase('whitespace --ngram 2, 2 workers', [proseFile], 'whitespace', 2, [
        '--ngram',
        '2',
      ]),
      awkCase,
      wordcountCase(`words, ${FILES} files, 2 workers`, files, 'words', 2),
      wordcountCase(`words --doc-freq, ${FILES} files, 2 workers`, files, 'words', 2, [
        '--doc-freq',
      ]),
    ],
    runs,
    proseBytes,
  );
  const [words, bigrams, wsBigrams, awk, filesWords, docFreq] = cases;
  out.push(
    `## Grams: King James Bible repeated (${(proseBytes / 1e6).toFixed(1)} MB; as one file, and as ${FILES} files for documents), median of ${runs} run(s)`,
    '',
    markdownTable(
      ['name', 'median s', 'MB/s', 'vs words', 'total', 'distinct', 'peak RSS MiB'],
      cases.map((r) => {
        const base = r === docFreq ? filesWords : words;
        const o = r.outputs[0];
        return [
          r.name,
          r.seconds.toFixed(2),
          r.mbps.toFixed(1),
          r === awk ? '' : `${(r.seconds / base.seconds).toFixed(2)}×`,
          o.totalWords === undefined ? '' : o.totalWords.toLocaleString('en-US'),
          o.distinctWords.toLocaleString('en-US'),
          fixed(r.rssMiB, 1),
        ];
      }),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    `vs words: the row's time over plain words mode's on the same input (the ${FILES} files for --doc-freq). awk splits on spaces and tabs, so its bigrams are near whitespace mode's, not the same.`,
    '',
  );

  // Trigrams of 1 GB: exact, against a single pass and (on a sample) Python.
  const bigFile = join(dataDir, 'kjv-1024m.txt');
  const { bytes: bigBytes } = ensureRepeated(bigFile, bible, BIG_BYTES, root);
  warmPageCache(bigFile);
  log(`trigrams: ${relative(root, bigFile)} (${(bigBytes / 1e6).toFixed(1)} MB)`);
  const fanned = join(scratch, 'trigrams-fanned.tsv');
  const single = join(scratch, 'trigrams-single.tsv');
  const trigram = (counts, workers, extra) =>
    measure(process.execPath, [
      cli,
      ...['count', bigFile, '--ngram', '3', '--workers', String(workers), '--json'],
      ...['--counts', counts, ...extra],
    ]);
  const fan = trigram(fanned, 2, ['--reduce', 'partitioned']);
  const one = trigram(single, 1, ['--chunk-size', '1GiB']);
  const fanSummary = JSON.parse(fan.stdout);
  const oneSummary = JSON.parse(one.stdout);
  const sample = join(scratch, 'trigram-sample.txt');
  const sampleBytes = readFileSync(bigFile).subarray(0, SAMPLE_BYTES);
  const fd = openSync(sample, 'w');
  writeSync(fd, sampleBytes.subarray(0, sampleBytes.lastIndexOf(10) + 1));
  closeSync(fd);
  const python = measure('python3', ['-c', PYTHON_TRIGRAMS, sample]);
  const ours = join(scratch, 'trigram-sample.tsv');
  measure(process.execPath, [
    cli,
    ...['count', sample, '--mode', 'whitespace', '--ngram', '3', '--workers', '2'],
    ...['--chunk-size', '1MiB', '--counts', ours, '--json'],
  ]);
  const sampleSame = readFileSync(ours, 'utf8') === python.stdout;
  const same = existsSync(fanned) && sha(fanned) === sha(single);
  out.push(
    `## Trigrams of ${(bigBytes / 1e6).toFixed(0)} MB, words mode`,
    '',
    markdownTable(
      ['run', 's', 'map tasks', 'reduce tasks', 'partitions', 'distinct trigrams', 'peak RSS MiB'],
      [
        ['2 workers, 16 MiB tasks, reduced in tasks', fan, fanSummary],
        ['1 worker, tasks of 1 GiB (the biggest chunk)', one, oneSummary],
      ].map(([name, run, s]) => [
        name,
        run.seconds.toFixed(1),
        String(s.stats.mapTasks),
        String(s.stats.reduceTasks),
        String(s.stats.partitions),
        s.distinctWords.toLocaleString('en-US'),
        fixed(run.rssMiB, 1),
      ]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    `Counts files byte for byte equal: ${same ? 'yes' : '**NO**'}. The first ${(SAMPLE_BYTES / 1e6).toFixed(0)} MB in whitespace mode against Python's str.split() line by line: ${sampleSame ? 'equal' : '**DIFFERENT**'} (Python ${python.seconds.toFixed(1)} s).`,
    '',
  );

  const ratio = (r, base) => r.seconds / base.seconds;
  const verdict = (ok) => (ok ? 'met' : '**NOT MET**');
  const targets = [
    `- --ngram 2, 2 workers, 256 MB: within ${TARGETS.vsWords}× of words mode: ${ratio(bigrams, words).toFixed(2)}×, ${verdict(ratio(bigrams, words) <= TARGETS.vsWords)}`,
    `- --doc-freq, 2 workers, 256 MB in ${FILES} files: within ${TARGETS.vsWords}× of words mode: ${ratio(docFreq, filesWords).toFixed(2)}×, ${verdict(ratio(docFreq, filesWords) <= TARGETS.vsWords)}`,
    `- --ngram 3 of 1 GB exact: fan-out = single pass ${same ? 'met' : '**NOT MET**'}, sample = Python ${sampleSame ? 'met' : '**NOT MET**'}`,
  ];
  const checks = [
    { label: 'trigrams: 2 workers = single pass (sha256)', actual: same, want: true, fatal: true },
    { label: 'trigrams: sample = Python', actual: sampleSame, want: true, fatal: true },
    {
      label: 'bigrams: total = tokens minus one per line with tokens',
      actual: bigrams.outputs[0].totalWords < words.outputs[0].totalWords,
      want: true,
      fatal: true,
    },
    {
      label: '--doc-freq: documents = files',
      actual: docFreq.outputs[0].documents,
      want: FILES,
      fatal: true,
    },
    {
      label: 'whitespace bigrams counted',
      actual: wsBigrams.outputs[0].totalWords > 0,
      want: true,
    },
  ];
  return { lines: out, checks, targets };
}
