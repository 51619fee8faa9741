#!/usr/bin/env node
/** The `wordcount` command. */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { Summary } from '../contracts.js';
import { messageOf, UsageError, WordcountError } from '../errors.js';
import { MAX_CHUNK_SIZE } from '../plan.js';
import { parseSize } from '../sizes.js';
import { MODES, type Mode } from '../tokenize.js';
import { countLocal } from './local.js';
import { countRemote } from './remote.js';
import { summaryTable } from './render.js';

interface CountOptions {
  mode: Mode;
  workers?: number;
  chunkSize?: number;
  top: number;
  json?: boolean;
  counts?: string;
  function?: string;
  reduce?: 'auto' | 'inline' | 'partitioned';
}

function positiveInteger(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number => {
    const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < 1 || value > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}.`);
    }
    return value;
  };
}

function nonNegativeInteger(text: string): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value)) throw new InvalidArgumentError('--top must be a whole number.');
  return value;
}

function chunkSize(text: string): number {
  let size: number;
  try {
    size = parseSize(text);
  } catch (error) {
    throw new InvalidArgumentError(messageOf(error));
  }
  if (size < 1 || size > MAX_CHUNK_SIZE) {
    throw new InvalidArgumentError('--chunk-size must be at least 1 byte and at most 1GiB.');
  }
  return size;
}

async function count(sources: string[], options: CountOptions): Promise<void> {
  const remote = sources.filter((s) => s.startsWith('s3://'));
  if (remote.length > 0 && remote.length < sources.length) {
    const local = sources.find((s) => !s.startsWith('s3://'));
    throw new UsageError(`${local}: local and s3:// sources do not mix in one job`);
  }
  const summary: Summary =
    remote.length > 0 ? await countRemote(sources, options) : await countLocal(sources, options);
  process.stdout.write(
    options.json ? `${JSON.stringify(summary, null, 2)}\n` : summaryTable(summary),
  );
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('wordcount')
    .description('Count word frequencies in large texts by fanning them out to parallel counters.')
    .exitOverride()
    .showHelpAfterError(false);
  program
    .command('count')
    .description('count the words of files, directories, standard input or S3 objects')
    .argument(
      '<source...>',
      'files, directories (every file under them), - (standard input), s3://bucket/key or s3://bucket/prefix/',
    )
    .addOption(new Option('--mode <mode>', 'token rules').choices(MODES).default('words'))
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
    .option('--json', 'print the summary as one JSON object')
    .option('--counts <file>', 'write every word and its count as TSV to <file>')
    .option(
      '--function <name>',
      's3:// sources: the orchestrator Lambda (default: $WORDCOUNT_ORCHESTRATOR_FUNCTION)',
    )
    // For measuring where the shuffle starts to pay: not a user setting.
    .addOption(
      new Option('--reduce <how>', 'reduce inline or partitioned (default: auto)')
        .choices(['auto', 'inline', 'partitioned'])
        .hideHelp(),
    )
    .action(count);
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

process.exitCode = await main(process.argv);
