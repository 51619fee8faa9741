#!/usr/bin/env node
/** The `wordcount` command. */
import { availableParallelism } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { FileObjectStore } from './adapters/file-store.js';
import { WorkerPoolRunner } from './adapters/worker-pool-runner.js';
import { autoChunkSize, formatSize, MAX_CHUNK_SIZE, parseSize } from './chunks.js';
import { parsePayload, type Summary, SummarySchema } from './contracts.js';
import { messageOf, UsageError, WordcountError } from './errors.js';
import { type JobProgress, runCountJob } from './job.js';
import { countsKey } from './keys.js';
import { countsTsv, sortCounts } from './reduce.js';
import { MODES, type Mode } from './tokenize.js';

interface CountOptions {
  mode: Mode;
  workers?: number;
  chunkSize?: number;
  top: number;
  json?: boolean;
  counts?: string;
  function?: string;
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

function progressBar(): { update: (p: JobProgress) => void; stop: () => void } | undefined {
  if (!process.stderr.isTTY) return undefined;
  const bar = new SingleBar({
    stream: process.stderr,
    format: 'counting [{bar}] {percentage}% | {mb}/{totalMb} MB | {chunksDone}/{chunks} chunks',
    hideCursor: true,
    clearOnComplete: true,
  });
  let started = false;
  return {
    update(p) {
      const payload = {
        mb: (p.bytesDone / 1e6).toFixed(1),
        totalMb: (p.bytes / 1e6).toFixed(1),
        chunksDone: p.chunksDone,
        chunks: p.chunks,
      };
      if (!started) {
        bar.start(Math.max(1, p.bytes), p.bytesDone, payload);
        started = true;
      } else bar.update(p.bytesDone, payload);
    },
    stop: () => bar.stop(),
  };
}

const number = new Intl.NumberFormat('en-US');

function table(summary: Summary): string {
  const seconds = summary.elapsedMs / 1000;
  const rate = seconds > 0 ? `${(summary.source.bytes / 1e6 / seconds).toFixed(1)} MB/s` : '-';
  const lines = [
    `source  ${summary.source.uri} (${number.format(summary.source.bytes)} bytes)`,
    `mode    ${summary.mode}, ${summary.chunks} chunk(s) of ${formatSize(summary.stats.chunkSize)}, up to ${summary.stats.concurrency} counting at once`,
    `words   ${number.format(summary.totalWords)} total, ${number.format(summary.distinctWords)} distinct, in ${seconds.toFixed(2)} s (${rate})`,
  ];
  if (summary.invalidSequences > 0) {
    lines.push(
      `note    ${number.format(summary.invalidSequences)} invalid UTF-8 sequence(s) read as U+FFFD`,
    );
  }
  if (summary.longTokens > 0) {
    lines.push(
      `note    ${number.format(summary.longTokens)} token(s) over ${summary.stats.tokenCapBytes} bytes counted under their first bytes + "…"`,
    );
  }
  if (summary.top.length > 0) {
    const width = Math.max(4, ...summary.top.map((t) => [...t.word].length));
    const countWidth = Math.max(5, ...summary.top.map((t) => number.format(t.count).length));
    lines.push('', `   #  ${'word'.padEnd(width)}  ${'count'.padStart(countWidth)}   share`);
    summary.top.forEach((t, i) => {
      const share =
        summary.totalWords > 0 ? ((100 * t.count) / summary.totalWords).toFixed(2) : '0';
      const pad = ' '.repeat(width - [...t.word].length);
      lines.push(
        `${String(i + 1).padStart(4)}  ${t.word}${pad}  ${number.format(t.count).padStart(countWidth)}  ${share.padStart(5)}%`,
      );
    });
  }
  return `${lines.join('\n')}\n`;
}

/** s3://bucket/key → the deployed orchestrator counts it where it lives. */
async function countInS3(source: string, options: CountOptions): Promise<void> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(source);
  if (!match) throw new UsageError(`${source}: expected s3://bucket/key`);
  const [, bucket, key] = match as unknown as [string, string, string];
  const functionName = options.function ?? process.env.WORDCOUNT_ORCHESTRATOR_FUNCTION;
  if (!functionName) {
    throw new UsageError(
      `${source}: name the orchestrator function with --function or WORDCOUNT_ORCHESTRATOR_FUNCTION`,
    );
  }
  // The AWS SDK loads only for s3:// sources: local counts start faster without it.
  // Its notice that releases after early 2027 need Node 22 is not for our users: the
  // lockfile pins the SDK, and the notice would break the one-line stderr contract.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { createLambdaClient, createS3Client } = await import('./adapters/aws-clients.js');
  const { LambdaRunner } = await import('./adapters/lambda-runner.js');
  const { S3ObjectStore } = await import('./adapters/s3-store.js');
  const runner = new LambdaRunner(createLambdaClient({ maxSockets: 2 }), {
    concurrency: 1,
    maxAttempts: 3,
    timeoutMs: 16 * 60 * 1000,
  });
  const reply = await runner.invoke(functionName, {
    bucket,
    key,
    mode: options.mode,
    chunkSize: options.chunkSize,
    top: options.top,
  });
  const summary = parsePayload(SummarySchema, reply, `summary from ${functionName}`);
  if (options.counts !== undefined) {
    const store = new S3ObjectStore(
      createS3Client({ maxSockets: 2, forcePathStyle: true }),
      bucket,
    );
    const target = resolve(options.counts);
    await new FileObjectStore(dirname(target)).put(
      basename(target),
      store.readRange(countsKey(key), { start: 0 }),
    );
  }
  process.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : table(summary));
}

async function count(source: string, options: CountOptions): Promise<void> {
  if (source.startsWith('s3://')) return countInS3(source, options);
  const path = resolve(source);
  const store = new FileObjectStore(dirname(path));
  const key = basename(path);
  // No more threads than ranges: a 1 KB file does not start 64 workers. (The head also
  // reports a missing file before any thread starts.)
  const { size } = await store.head(key);
  const chunkSize =
    options.chunkSize ?? autoChunkSize(size, options.workers ?? availableParallelism());
  const workers = Math.max(
    1,
    Math.min(options.workers ?? availableParallelism(), Math.ceil(size / chunkSize)),
  );
  const runner = new WorkerPoolRunner({ size: workers, workerData: { storeRoot: store.root } });
  const bar = progressBar();
  try {
    const { summary, counts } = await runCountJob(
      { store, runner, counterFunction: 'counter', onProgress: bar?.update },
      key,
      { mode: options.mode, chunkSize, concurrency: workers, top: options.top },
    );
    bar?.stop();
    if (options.counts !== undefined) {
      const target = resolve(options.counts);
      await new FileObjectStore(dirname(target)).put(
        basename(target),
        countsTsv(sortCounts(counts)),
      );
    }
    process.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : table(summary));
  } finally {
    bar?.stop();
    await runner.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('wordcount')
    .description(
      'Count word frequencies in a large text by fanning byte ranges out to parallel counters.',
    )
    .exitOverride()
    .showHelpAfterError(false);
  program
    .command('count')
    .description('count the words of a file')
    .argument('<source>', 'a file path, or s3://bucket/key to count in AWS (or AWS_ENDPOINT_URL)')
    .addOption(new Option('--mode <mode>', 'token rules').choices(MODES).default('words'))
    .option(
      '--workers <n>',
      'parallel counters (default: number of CPUs)',
      positiveInteger('--workers', 1024),
    )
    .option(
      '--chunk-size <size>',
      'bytes per range: bytes or KiB/MiB/GiB (default: 16MiB)',
      chunkSize,
    )
    .option('--top <n>', 'how many of the most frequent words to show', nonNegativeInteger, 20)
    .option('--json', 'print the summary as one JSON object')
    .option('--counts <file>', 'write every word and its count as TSV to <file>')
    .option(
      '--function <name>',
      's3:// sources: the orchestrator Lambda (default: $WORDCOUNT_ORCHESTRATOR_FUNCTION)',
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
