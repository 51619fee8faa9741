#!/usr/bin/env node
/**
 * Benchmark of the wordcount CLI against the usual baselines, in one invocation:
 *
 *   prose       the King James Bible repeated to a few hundred MB: `wc -w`, an awk
 *               frequency count, the naive Node split + Map; Chinese text (fortunes-zh)
 *               against bare Intl.Segmenter; the CLI's start-up on a one-line file
 *   vocabulary  20 million distinct tokens: `LC_ALL=C sort -S 1G | uniq -c` and mawk;
 *               and where the partitioned reduce starts to beat the inline merge
 *   emulator    5 million distinct words uploaded to the stack on MiniStack, under RPC
 *               and queue coordination (starts the emulator if needed)
 *   cost        what jobs cost as their summaries report it, RPC and queue, on MiniStack
 *   corpus      200 MB of text as JSONL.gz, Parquet and WET (written by the real writers in
 *               .corpus/venv): the CLI against DuckDB, a jq pipeline and Python's readers
 *   crawl       one job over 2,000 small objects and a 1 GiB object on MiniStack, under
 *               RPC and queue coordination, its counts compared with the embedded backend's
 *   scale       the queue coordination in-process at 1,000 to 100,000 map tasks over a
 *               simulated S3 and SQS: requests per task, peak memory of the step that
 *               publishes, simulated wall time; a million-key manifest's version check
 *
 *   npm run bench                                   # everything, median of 3 runs
 *   npm run bench -- --only vocabulary --runs 1
 *   npm run bench -- --only scale --sizes 1000,10000 --json
 *
 * Every command runs as its own subprocess, timed from outside, with its peak RSS from
 * GNU time; runs are interleaved round-robin. Results go to stdout as markdown, progress
 * to stderr. Exits 1 if wordcount disagrees with a baseline on a count.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { corpusSection } from './bench/corpus.mjs';
import { costSection } from './bench/cost.mjs';
import { crawlSection } from './bench/crawl.mjs';
import { emulatorSection } from './bench/emulator.mjs';
import { gramsSection } from './bench/grams.mjs';
import { die, machine, staleBuildWarning } from './bench/measure.mjs';
import { proseSection } from './bench/prose.mjs';
import { DEFAULT_SIZES, scaleSection } from './bench/scale.mjs';
import { vocabularySection } from './bench/vocabulary.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist/lib/cli/main.js');
const DATA_DIR = join(ROOT, 'bench-data');
const SECTIONS = ['prose', 'grams', 'vocabulary', 'corpus', 'emulator', 'cost', 'scale', 'crawl'];

function usage() {
  return `Usage: node scripts/bench.mjs [--size MB] [--runs N] [--only SECTIONS] [--sizes N,...] [--json]

  --size MB        size of the prose sample in MiB (default 256)
  --runs N         runs per command; the median is reported (default 3)
  --only SECTIONS  comma-separated: ${SECTIONS.join(',')} (default: all)
  --sizes N,...    the scale section's jobs, in map tasks (default ${DEFAULT_SIZES.join(',')})
  --json           with --only scale: print its rows as one JSON array

Needs the built CLI (npm run build), Debian's bible-kjv and fortunes-zh packages
(apt-get install bible-kjv fortunes-zh)
jq for the corpus section, and Python 3 for the corpus and emulator sections (pyarrow,
zstandard, warcio and DuckDB are installed into .corpus/, MiniStack into .emulator/).
BENCH_CORPUS_MB sets the corpus section's MB of text (default 200).
BENCH_SCALE_COUNTERS, BENCH_SCALE_LATENCY_MS and BENCH_SCALE_MANIFEST_KEYS set the scale
section's handlers at once (64), request latency (15-30) and manifest keys (1000000).
Set BENCH_NO_GNU_TIME=1 to measure peak RSS without /usr/bin/time (node commands only).
`;
}

function positiveInteger(name, text) {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    die(`${name} must be a whole number of at least 1, got '${text}'\n\n${usage()}`);
  }
  return value;
}

function parseOptions(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        size: { type: 'string', default: '256' },
        runs: { type: 'string', default: '3' },
        only: { type: 'string', default: SECTIONS.join(',') },
        sizes: { type: 'string', default: DEFAULT_SIZES.join(',') },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    die(`${error.message}\n\n${usage()}`);
  }
  if (parsed.values.help) {
    process.stdout.write(usage());
    process.exit(0);
  }
  const only = parsed.values.only.split(',').filter(Boolean);
  const unknown = only.find((s) => !SECTIONS.includes(s));
  if (unknown) die(`--only: unknown section '${unknown}'\n\n${usage()}`);
  const { json } = parsed.values;
  if (json && only.join(',') !== 'scale') die(`--json goes with --only scale\n\n${usage()}`);
  return {
    sizeMiB: positiveInteger('--size', parsed.values.size),
    runs: positiveInteger('--runs', parsed.values.runs),
    only,
    sizes: parsed.values.sizes.split(',').map((s) => positiveInteger('--sizes', s)),
    json,
  };
}

async function main() {
  const { sizeMiB, runs, only, sizes, json } = parseOptions(process.argv.slice(2));
  if (!existsSync(CLI)) die(`${relative(ROOT, CLI)} not found: run \`npm run build\` first.`);
  const context = { cli: CLI, root: ROOT, dataDir: DATA_DIR, sizeMiB, runs, sizes };
  if (json) {
    const stale = staleBuildWarning(ROOT, CLI);
    if (stale) process.stderr.write(`${stale}\n`);
    const { rows, checks } = await scaleSection(context);
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    if (checks.some((c) => c.fatal && c.actual !== c.want)) process.exitCode = 1;
    return;
  }
  const out = ['# wordcount benchmark', '', machine(), ''];
  const stale = staleBuildWarning(ROOT, CLI);
  if (stale) out.push(stale, '');
  const checks = [];
  const targets = [];
  const sections = {
    prose: () => proseSection(context),
    grams: () => gramsSection(context),
    vocabulary: () => vocabularySection(context),
    corpus: () => corpusSection(context),
    emulator: () => emulatorSection(context),
    cost: () => costSection(context),
    scale: () => scaleSection(context),
    crawl: () => crawlSection(context),
  };
  for (const name of only) {
    const section = await sections[name]();
    out.push(...section.lines);
    checks.push(...section.checks);
    targets.push(...(section.targets ?? []));
  }
  out.push('## Targets', '', ...targets, '', '## Checks', '');
  for (const c of checks) {
    out.push(
      `- ${c.actual === c.want ? 'ok' : '**MISMATCH**'}: ${c.label} (${c.actual} vs ${c.want})`,
    );
  }
  out.push('');
  process.stdout.write(`${out.join('\n')}\n`);
  const fatal = checks.filter((c) => c.fatal && c.actual !== c.want);
  if (fatal.length > 0) {
    process.stderr.write(
      `\n${'!'.repeat(72)}\nbench: MISMATCH: ${fatal.map((c) => `${c.label}: ${c.actual} vs ${c.want}`).join('; ')}\n${'!'.repeat(72)}\n`,
    );
    process.exitCode = 1;
  }
}

await main();
