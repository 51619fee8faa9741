#!/usr/bin/env node
/** The `wordcount` command. */
import { constants, readFileSync } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { Summary } from '../contracts/summary.js';
import { messageOf, UsageError, WordcountError } from '../errors.js';
import { FORMAT_OPTIONS, type FormatOption } from '../records/formats.js';
import { SEGMENTERS, type SegmenterName } from '../segmenter.js';
import { MAX_NGRAM, MODES, type Mode } from '../tokenize.js';
import { chunkSize, field, nonNegativeInteger, positiveInteger } from './options.js';
import { addPlanCommand } from './plan-command.js';

// Each command loads what it needs when it runs (local counting, the AWS SDK, the
// progress bar): `wordcount count FILE` starts without the SDK.

interface CountOptions {
  mode: Mode;
  format: FormatOption;
  field?: string;
  strict?: boolean;
  /** Absent: auto. */
  segmenter?: SegmenterName;
  /** Absent: 1, single tokens. */
  ngram?: number;
  docFreq?: boolean;
  workers?: number;
  chunkSize?: number;
  top: number;
  minCount?: number;
  json?: boolean;
  counts?: string;
  report?: string;
  function?: string;
  reduce?: 'auto' | 'inline' | 'partitioned';
  force?: boolean;
  /** False with --no-wait. */
  wait: boolean;
}

const WRITE_FAILURES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
};

/** Fails before any counting when the counts file could not be written where asked. */
async function checkCountsTarget(path: string): Promise<void> {
  if (path === '') throw new UsageError("--counts '': name the file to write");
  const target = resolve(path);
  if ((await stat(target).catch(() => undefined))?.isDirectory()) {
    throw new WordcountError(`--counts ${path}: is a directory; name a file`);
  }
  const dir = dirname(target);
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
    throw new WordcountError(`--counts ${path}: no such directory ${dir}`);
  }
  await access(dir, constants.W_OK).catch((error: NodeJS.ErrnoException) => {
    const reason = WRITE_FAILURES[error.code ?? ''] ?? messageOf(error);
    throw new WordcountError(`--counts ${path}: cannot write in ${dir}: ${reason}`, {
      cause: error,
    });
  });
}

async function count(sources: string[], options: CountOptions): Promise<void> {
  const remote = sources.filter((s) => s.startsWith('s3://'));
  if (remote.length > 0 && remote.length < sources.length) {
    const local = sources.find((s) => !s.startsWith('s3://'));
    throw new UsageError(`${local}: local and s3:// sources do not mix in one job`);
  }
  if (remote.length === 0) {
    const s3Only: [string, boolean][] = [
      ['--function', options.function !== undefined],
      ['--force', options.force === true],
      ['--no-wait', !options.wait],
    ];
    const given = s3Only.find(([, on]) => on)?.[0];
    if (given) throw new UsageError(`${given} applies to s3:// sources: a local count runs here`);
  } else if (options.workers !== undefined) {
    throw new UsageError('--workers applies to local sources: on s3:// the deployment decides');
  }
  if (options.segmenter !== undefined && options.mode !== 'words') {
    throw new UsageError(
      `--segmenter ${options.segmenter}: only words mode segments text (--mode is ${options.mode})`,
    );
  }
  if (options.counts !== undefined) await checkCountsTarget(options.counts);
  if (
    options.counts !== undefined &&
    options.report !== undefined &&
    resolve(options.counts) === resolve(options.report)
  ) {
    throw new UsageError(`--report ${options.report}: is the --counts file too; name another file`);
  }
  // Before a job that may take minutes (a local count checks it itself).
  if (remote.length > 0 && options.report !== undefined) {
    await (await import('../report/report-file.js')).checkReportTarget(options.report);
  }
  const summary =
    remote.length > 0 ? await countS3(sources, options) : await countFiles(sources, options);
  if (!summary) return;
  const invalid = (await import('./render.js')).invalidRecordsLine(summary);
  if (invalid) process.stderr.write(`wordcount: ${invalid}\n`);
  process.stdout.write(
    options.json
      ? `${JSON.stringify(summary, null, 2)}\n`
      : (await import('./render.js')).summaryTable(summary) +
          (options.report === undefined ? '' : `report  ${options.report}\n`),
  );
}

/** Counts local sources on the embedded backend, with a progress bar on a terminal. */
async function countFiles(sources: string[], options: CountOptions): Promise<Summary> {
  const { progressBar } = await import('./progress-bar.js');
  const { countLocal } = await import('../embedded/count-local.js');
  const bar = await progressBar();
  try {
    const { format, field, strict, segmenter, ngram, docFreq } = options;
    return await countLocal(sources, {
      ...options,
      records: {
        ...(format !== 'auto' && { format }),
        ...(field !== undefined && { field }),
        ...(strict && { strict }),
        ...(segmenter !== undefined && segmenter !== 'auto' && { segmenter }),
        ...(ngram !== undefined && ngram > 1 && { ngram }),
        ...(docFreq && { docFreq }),
      },
      onProgress: bar?.update,
      cleanUpOnSignals: true,
    });
  } finally {
    bar?.stop();
  }
}

/** Counts s3:// sources; a queued job is followed to its end unless --no-wait. */
async function countS3(sources: string[], options: CountOptions): Promise<Summary | undefined> {
  const { awsAccess, copyOutput, copyReport, startRemote, waitForJob } = await import(
    './remote.js'
  );
  const { progressBar } = await import('./progress-bar.js');
  const { bucket, input, reply } = await startRemote(sources, options);
  const store = (await awsAccess()).store(bucket);
  let summary: Summary;
  if ('queued' in reply) {
    const { queued } = reply;
    if (!options.wait) {
      process.stdout.write(
        options.json
          ? `${JSON.stringify(queued, null, 2)}\n`
          : `job ${queued.jobId} ${queued.outcome}; follow it with: wordcount status ${sources.join(' ')}\noutput: ${queued.output.summary}\n        ${queued.output.counts}\n${queued.output.report ? `        ${queued.output.report}\n` : ''}`,
      );
      return undefined;
    }
    const bar = await progressBar();
    try {
      summary = await waitForJob(store, input, queued.jobId, {
        top: options.top,
        onProgress: (p) => bar?.update(p),
      });
    } finally {
      bar?.stop();
    }
  } else summary = reply.summary;
  if (options.counts !== undefined) await copyOutput(store, input, 'counts', options.counts);
  if (options.report !== undefined) await copyReport(store, input, summary, options.report);
  return summary;
}

async function status(sources: string[], options: { json?: boolean }): Promise<void> {
  const { latestReport, statusTable } = await import('./status.js');
  const report = await latestReport(sources);
  process.stdout.write(
    options.json
      ? `${JSON.stringify({ ...report.status, ...(report.progress && { progress: report.progress }) }, null, 2)}\n`
      : statusTable(report),
  );
}

/** This package's version, from the package.json above this module (in lib/ or dist/lib/). */
function packageVersion(): string {
  for (let dir = new URL('.', import.meta.url); dir.pathname !== '/'; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8'));
      if (pkg.name === 'wordcount-fanout') return String(pkg.version);
    } catch {
      // Not here: look one folder up.
    }
  }
  return 'unknown';
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('wordcount')
    .description('Count word frequencies in large texts by fanning them out to parallel counters.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .showHelpAfterError(false)
    // Commander's own errors in the one-line form of ours: `wordcount: unknown option …`.
    .configureOutput({
      outputError: (message, write) => write(message.replace(/^error: /, 'wordcount: ')),
    });
  program
    .command('count')
    .description('count the words of files, directories, standard input or S3 objects')
    .argument(
      '<source...>',
      'files, directories (every file under them), - (standard input), s3://bucket/key or s3://bucket/prefix/',
    )
    .addOption(new Option('--mode <mode>', 'token rules').choices(MODES).default('words'))
    .addOption(
      new Option('--format <format>', 'how objects are read (auto: by content, then name)')
        .choices(FORMAT_OPTIONS)
        .default('auto'),
    )
    .option(
      '--field <name>',
      'jsonl and parquet: the field counted, a dotted path reaches into objects (default: text)',
      field,
    )
    .option('--strict', 'fail on the first invalid record instead of counting and skipping it')
    .addOption(
      new Option(
        '--segmenter <name>',
        'words mode: how Chinese, Japanese, Thai... are split (auto: Chinese by jieba, the rest by ICU; default auto)',
      ).choices(SEGMENTERS),
    )
    .option(
      '--ngram <n>',
      `count runs of <n> consecutive tokens of a line, joined by a space (1 to ${MAX_NGRAM}; default: 1, single tokens)`,
      positiveInteger('--ngram', MAX_NGRAM),
    )
    .option(
      '--doc-freq',
      'add a third column to the counts: the documents a word occurs in (a record, else a file)',
    )
    .option(
      '--workers <n>',
      'parallel counters (default: number of CPUs)',
      positiveInteger('--workers', 1024),
    )
    .option(
      '--chunk-size <size>',
      'bytes per map task: bytes or KiB/MiB/GiB (default: 16MiB)',
      chunkSize,
    )
    .option('--top <n>', 'how many of the most frequent words to show', nonNegativeInteger, 20)
    .option(
      '--min-count <n>',
      'keep only words counted at least <n> times in the counts, top and report (default: 1)',
      positiveInteger('--min-count'),
    )
    .option('--json', 'print the summary as one JSON object')
    .option('--counts <file>', 'write every word and its count as TSV to <file>')
    .option(
      '--report <file>',
      "write an HTML report of the counts to <file> (s3://: a copy of the job's)",
    )
    .option(
      '--function <name>',
      's3:// sources: the orchestrator Lambda (default: $WORDCOUNT_ORCHESTRATOR_FUNCTION)',
    )
    .option('--force', 's3:// sources: count again even if this version was counted before')
    .option('--no-wait', 's3:// sources: print the queued job and return without waiting')
    // For measuring where the shuffle starts to pay: not a user setting.
    .addOption(
      new Option('--reduce <how>', 'reduce inline or partitioned (default: auto)')
        .choices(['auto', 'inline', 'partitioned'])
        .hideHelp(),
    )
    .action(count);
  addPlanCommand(program);
  program
    .command('status')
    .description('show the latest job for S3 sources: state, version, progress, reason')
    .argument('<source...>', 's3://bucket/key, s3://bucket/prefix/, or several keys as for count')
    .option('--json', 'print the status record as JSON')
    .action(status);
  program
    .command('report')
    .description(
      'write an HTML report (charts of the top words, Zipf fit, coverage) of a counts file',
    )
    .argument('<counts>', 'a counts file as --counts writes it: word<TAB>count lines')
    .option(
      '--out <file>',
      'where to write it (default: <counts> with .tsv replaced by .report.html)',
    )
    .action(async (counts: string, options: { out?: string }) =>
      (await import('./report.js')).reportCommand(counts, options),
    );
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : 2;
    }
    process.stderr.write(`wordcount: ${messageOf(error)}\n`);
    if (error instanceof UsageError) return 2;
    if (!(error instanceof WordcountError) && process.env.WORDCOUNT_DEBUG) console.error(error);
    return 1;
  }
}

// A reader that stops early (`wordcount count big.txt | head -1`) closes our stdout:
// that ends the program quietly, as it would a Unix filter, not with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await main(process.argv);
