/**
 * Subprocess measurement for the benchmark: wall clock from outside (process start-up
 * included) and peak RSS from GNU time, runs interleaved round-robin so that noise on a
 * shared machine spreads over every command instead of hitting one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

export const MiB = 1024 * 1024;
const GNU_TIME = '/usr/bin/time';
// Without GNU time, node children report their own peak RSS through this preloaded
// module (worker threads live in the same process, so it covers them too).
const RSS_HOOK = `data:text/javascript,${encodeURIComponent(
  "import { writeFileSync } from 'node:fs';" +
    'process.on("exit", () => writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));',
)}`;

export const useGnuTime = existsSync(GNU_TIME) && !process.env.BENCH_NO_GNU_TIME;
export const scratch = mkdtempSync(join(tmpdir(), 'wordcount-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

export function die(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(1);
}

export function log(message) {
  process.stderr.write(`${message}\n`);
}

/**
 * Runs one command to completion: wall seconds, peak RSS in MiB (null when it cannot be
 * measured; for a shell pipeline, its largest process) and stdout. Any failure ends the
 * benchmark.
 */
export function measure(command, args) {
  const rssFile = join(scratch, 'rss');
  rmSync(rssFile, { force: true });
  let argv = [command, ...args];
  if (useGnuTime) argv = [GNU_TIME, '-f', '%M', '-o', rssFile, ...argv];
  else if (command === process.execPath) argv = [command, '--import', RSS_HOOK, ...args];
  const started = performance.now();
  const result = spawnSync(argv[0], argv.slice(1), {
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BENCH_RSS_FILE: rssFile },
  });
  const seconds = (performance.now() - started) / 1000;
  const shown = [command === process.execPath ? 'node' : command, ...args]
    .map((a) => (a.length > 60 ? `${a.slice(0, 57)}...` : a))
    .join(' ');
  if (result.error) die(`${shown}: ${result.error.message}`);
  if (result.status !== 0) die(`${shown} exited with status ${result.status}:\n${result.stderr}`);
  let rssMiB = null;
  if (existsSync(rssFile)) {
    // GNU time reports kilobytes (KiB) on its last line, as does resourceUsage().maxRSS.
    const kib = Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1));
    if (Number.isFinite(kib)) rssMiB = kib / 1024;
  }
  return { seconds, rssMiB, stdout: result.stdout };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Runs every case `runs` times, round-robin, and keeps each case's medians. A case is
 * `{ name, command, args, parse(stdout), after?() }`; `after` runs untimed after each run
 * (to read an output file) and its result is kept with the parsed stdout.
 */
export function runCases(cases, runs, bytes) {
  const samples = cases.map(() => []);
  for (let run = 1; run <= runs; run++) {
    cases.forEach((c, i) => {
      const sample = measure(c.command, c.args);
      sample.output = { ...c.parse(sample.stdout), ...c.after?.() };
      samples[i].push(sample);
      log(
        `  [run ${run}/${runs}] ${c.name}: ${sample.seconds.toFixed(2)} s, ${(bytes / 1e6 / sample.seconds).toFixed(1)} MB/s`,
      );
    });
  }
  return cases.map((c, i) => {
    const seconds = median(samples[i].map((s) => s.seconds));
    const rss = samples[i].map((s) => s.rssMiB).filter((r) => r !== null);
    return {
      ...c,
      seconds,
      mbps: bytes / 1e6 / seconds,
      rssMiB: rss.length > 0 ? Math.max(...rss) : null,
      outputs: samples[i].map((s) => s.output),
    };
  });
}

/** A markdown table, padded so it also reads well in a terminal; `|` in a cell is escaped. */
export function markdownTable(rawHeaders, rawRows, align) {
  const escapePipes = (cell) => cell.replaceAll('|', '\\|');
  const headers = rawHeaders.map(escapePipes);
  const rows = rawRows.map((r) => r.map(escapePipes));
  const widths = headers.map((h, i) => Math.max(3, h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) =>
    `| ${cells.map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

export const fixed = (value, digits) => (value === null ? 'n/a' : value.toFixed(digits));

function firstLine(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.split('\n')[0].trim() : 'unknown';
}

export function machine() {
  const nproc = firstLine('nproc', []);
  return [
    `- date: ${new Date().toISOString()}`,
    `- machine: nproc ${nproc === 'unknown' ? availableParallelism() : nproc}, CPU ${cpus()[0]?.model.trim() ?? 'unknown'}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    `- node ${process.version}; ${firstLine('wc', ['--version'])}; ${firstLine('sort', ['--version'])}; awk: ${firstLine('awk', ['--version'])}`,
    `- locale: LANG=${process.env.LANG ?? ''} LC_ALL=${process.env.LC_ALL ?? ''}`,
    `- peak RSS: ${useGnuTime ? 'GNU time %M (a pipeline: its largest process)' : 'process.resourceUsage().maxRSS (node commands only)'}`,
  ].join('\n');
}

/** Warns when the TypeScript sources are newer than the compiled CLI. */
export function staleBuildWarning(root, cli) {
  const built = statSync(cli).mtimeMs;
  const newer = readdirSync(join(root, 'lib'), { recursive: true })
    .filter((f) => f.endsWith('.ts'))
    .filter((f) => statSync(join(root, 'lib', f)).mtimeMs > built);
  return newer.length > 0
    ? `> note: dist/ is older than ${newer.map((f) => `lib/${f}`).join(', ')}; run \`npm run build\` to bench the current sources.`
    : '';
}

export function wordcountCase(cli, name, files, mode, workers, extra = []) {
  return {
    name,
    command: process.execPath,
    args: [
      cli,
      'count',
      ...files,
      '--mode',
      mode,
      '--workers',
      String(workers),
      '--json',
      ...extra,
    ],
    mode,
    workers,
    parse: (stdout) => JSON.parse(stdout),
  };
}
