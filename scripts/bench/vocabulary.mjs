/**
 * The big-vocabulary section: 20 million distinct tokens plus frequent ones (past V8's
 * Map limit of 2^24), one per line, counted by the CLI with 2 workers against
 * `LC_ALL=C sort -S 1G | uniq -c` and mawk, all writing every count to a file; and the
 * crossover where the partitioned reduce starts to beat merging partials inline.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureFile, warmPageCache, writeDrawn, writeVocabulary } from './data.mjs';
import { fixed, log, MiB, markdownTable, runCases, scratch, wordcountCase } from './measure.mjs';

const DISTINCT = 20_000_000;
const CROSSOVER_VOCABULARIES = [10_000, 100_000, 300_000, 1_000_000, 3_000_000];
const CROSSOVER_BYTES = 64 * MiB;
const RSS_LIMIT_MIB = 1536;

function lineCount(path) {
  const result = spawnSync('wc', ['-l', path], { encoding: 'utf8' });
  return Number(result.stdout.trim().split(/\s+/)[0]);
}

function awkCommand() {
  return spawnSync('mawk', ['-W', 'version'], { stdio: 'ignore' }).status === 0 ? 'mawk' : 'awk';
}

export function vocabularySection({ cli, root, dataDir, runs }) {
  const out = [];
  const checks = [];
  const file = join(dataDir, `vocabulary-${DISTINCT / 1e6}m.txt`);
  const bytes = ensureFile(file, undefined, (fd) => writeVocabulary(fd, DISTINCT, 1), root);
  warmPageCache(file);
  const lines = 2 * DISTINCT;
  log(`vocabulary: ${(bytes / 1e6).toFixed(1)} MB, ${DISTINCT} distinct tokens, ${runs} run(s)`);
  const awk = awkCommand();
  const written = (name) => join(scratch, `${name}.out`);
  const cases = [
    {
      name: 'LC_ALL=C sort -S 1G | uniq -c',
      command: 'sh',
      args: ['-c', 'LC_ALL=C sort -S 1G "$1" | uniq -c > "$2"', 'sh', file, written('sort')],
      parse: () => ({}),
      after: () => ({ distinctWords: lineCount(written('sort')) }),
    },
    {
      name: `${awk} frequency count`,
      command: 'sh',
      args: [
        '-c',
        `${awk} '{c[$1]++} END{for(w in c) print c[w], w}' "$1" > "$2"`,
        'sh',
        file,
        written('awk'),
      ],
      parse: () => ({}),
      after: () => ({ distinctWords: lineCount(written('awk')) }),
    },
    {
      ...wordcountCase(cli, 'wordcount whitespace, 2 workers', [file], 'whitespace', 2, [
        '--counts',
        written('wordcount'),
      ]),
      after: () => ({ countsLines: lineCount(written('wordcount')) }),
    },
  ];
  const results = runCases(cases, runs, bytes);
  const [sort, , wordcount] = results;
  out.push(
    `## Big vocabulary: ${DISTINCT.toLocaleString('en-US')} distinct tokens and as many frequent ones, one per line (${(bytes / 1e6).toFixed(1)} MB), every count written to a file, median of ${runs} run(s)`,
    '',
    markdownTable(
      ['name', 'median s', 'MB/s', 'vs sort | uniq -c', 'peak RSS MiB'],
      results.map((r) => [
        r.name,
        r.seconds.toFixed(3),
        r.mbps.toFixed(1),
        `${(sort.seconds / r.seconds).toFixed(2)}×`,
        fixed(r.rssMiB, 1),
      ]),
      ['l', 'r', 'r', 'r', 'r'],
    ),
    '',
  );
  const summary = wordcount.outputs[0];
  out.push(
    `wordcount ran ${summary.stats.mapTasks} map tasks and ${summary.stats.reduceTasks} reduce tasks over ${summary.stats.partitions} partitions.`,
    '',
  );
  const faster = wordcount.seconds < sort.seconds;
  const small = wordcount.rssMiB !== null && wordcount.rssMiB < RSS_LIMIT_MIB;
  const targets = [
    `- 20M distinct tokens, 2 workers, faster than \`LC_ALL=C sort -S 1G | uniq -c\`: ${wordcount.seconds.toFixed(2)} s vs ${sort.seconds.toFixed(2)} s (${(sort.seconds / wordcount.seconds).toFixed(2)}×), ${faster ? 'met' : '**NOT MET**'}`,
    `- peak RSS under ${RSS_LIMIT_MIB} MiB: ${fixed(wordcount.rssMiB, 0)} MiB, ${small ? 'met' : '**NOT MET**'}`,
  ];
  for (const [i, r] of results.entries()) {
    for (const [run, o] of r.outputs.entries()) {
      checks.push({
        label: `big vocabulary: ${r.name} distinct (run ${run + 1}) = ${DISTINCT + 10}`,
        actual: o.distinctWords,
        want: DISTINCT + 10,
        fatal: i === 2,
      });
    }
  }
  checks.push(
    {
      label: 'big vocabulary: wordcount totalWords = lines',
      actual: summary.totalWords,
      want: lines,
      fatal: true,
    },
    {
      label: 'big vocabulary: wordcount counts file lines = distinct',
      actual: wordcount.outputs[0].countsLines,
      want: DISTINCT + 10,
      fatal: true,
    },
  );

  // Crossover: the same job reduced both ways, over vocabularies of growing size.
  log(
    `crossover: ${CROSSOVER_VOCABULARIES.length} vocabularies × inline/partitioned, ${runs} run(s)`,
  );
  const rows = [];
  for (const vocabulary of CROSSOVER_VOCABULARIES) {
    const input = join(dataDir, `drawn-${vocabulary}.txt`);
    const size = ensureFile(
      input,
      undefined,
      (fd) => writeDrawn(fd, vocabulary, CROSSOVER_BYTES),
      root,
    );
    warmPageCache(input);
    const both = runCases(
      ['inline', 'partitioned', 'auto'].map((reduce) =>
        wordcountCase(cli, `${vocabulary} words, reduce ${reduce}`, [input], 'whitespace', 2, [
          '--reduce',
          reduce,
          '--counts',
          written(`crossover-${reduce}`),
        ]),
      ),
      runs,
      size,
    );
    const [inline, partitioned, auto] = both;
    rows.push([
      vocabulary.toLocaleString('en-US'),
      inline.outputs[0].distinctWords.toLocaleString('en-US'),
      inline.seconds.toFixed(2),
      partitioned.seconds.toFixed(2),
      `${(inline.seconds / partitioned.seconds).toFixed(2)}×`,
      auto.outputs[0].stats.reduceTasks > 0 ? 'partitioned' : 'inline',
      auto.seconds.toFixed(2),
      `${fixed(inline.rssMiB, 0)} / ${fixed(partitioned.rssMiB, 0)}`,
    ]);
    checks.push({
      label: `crossover ${vocabulary}: inline and partitioned agree on distinct words`,
      actual: partitioned.outputs[0].distinctWords,
      want: inline.outputs[0].distinctWords,
      fatal: true,
    });
  }
  out.push(
    `## Crossover: inline merge vs partitioned reduce, ${(CROSSOVER_BYTES / MiB).toFixed(0)} MiB drawn from vocabularies of growing size, 2 workers, median of ${runs} run(s)`,
    '',
    markdownTable(
      [
        'vocabulary',
        'distinct',
        'inline s',
        'partitioned s',
        'partitioned speed-up',
        'auto chose',
        'auto s',
        'peak RSS MiB (inline / partitioned)',
      ],
      rows,
      ['r', 'r', 'r', 'r', 'r', 'l', 'r', 'r'],
    ),
    '',
  );
  return { lines: out, checks, targets };
}
