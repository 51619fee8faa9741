#!/usr/bin/env node
/**
 * Benchmark of the wordcount CLI against the usual baselines (`wc -w`, an awk
 * frequency count, the naive Node split + Map), on the King James Bible repeated to
 * a few hundred MB, plus a CJK sample for `words` mode and the cost of moving a
 * partial result across the worker-thread boundary as JSON text.
 *
 *   npm run bench                          # 256 MiB of prose, median of 3 runs
 *   node scripts/bench.mjs --size 64 --runs 1
 *
 * Every command runs as its own subprocess, timed from outside (wall clock, process
 * start-up included), with its peak RSS taken from GNU time. The runs of the
 * commands are interleaved (round-robin) so that noise on a shared machine spreads
 * over all of them instead of hitting one. Results go to stdout as markdown; progress
 * goes to stderr. Exits 1 if wordcount and `wc -w` disagree on the word count.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist/lib/cli/main.js');
const DATA_DIR = join(ROOT, 'bench-data');
const MiB = 1024 * 1024;
const CJK_BYTES = 20 * MiB;
const GNU_TIME = '/usr/bin/time';
// Without GNU time, node children report their own peak RSS through this preloaded
// module (worker threads live in the same process, so it covers them too).
const RSS_HOOK = `data:text/javascript,${encodeURIComponent(
  "import { writeFileSync } from 'node:fs';" +
    'process.on("exit", () => writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));',
)}`;

const TARGETS = {
  whitespaceOneWorkerMBps: 120,
  whitespaceTwoWorkerSpeedup: 1.6,
  wordsTwoWorkersMBps: 50,
};

const AWK_PROGRAM = '{for(i=1;i<=NF;i++) c[$i]++} END{for(w in c) n++; print n}';

// Hand-written sentences for the CJK sample, Japanese then Chinese (simplified and
// traditional), with a little Latin text and digits mixed in as real text has.
const CJK_SENTENCES = [
  '吾輩は猫である。名前はまだ無い。',
  '今日は天気がとても良いので、公園へ散歩に行きました。',
  '東京駅から新幹線に乗って京都へ向かいます。',
  '私は毎朝コーヒーを飲みながら新聞を読みます。',
  '図書館で日本の歴史についての本を借りました。',
  '東京タワーの高さは333メートルです。',
  '週末は友達と一緒に映画を見に行く予定です。',
  '今天天气很好，我们一起去公园散步吧。',
  '我每天早上喝一杯茶，然后去学校上课。',
  '北京是中国的首都，也是一座历史悠久的城市。',
  '学习一门新的语言需要时间和耐心。',
  '他在图书馆里看了一下午的书。',
  '我們明天要去台北參觀故宮博物院。',
  '这个 JavaScript 程序可以统计文本中的词频。',
];

function usage() {
  return `Usage: node scripts/bench.mjs [--size MB] [--runs N]

  --size MB   size of the prose sample in MiB (default 256)
  --runs N    runs per command; the median is reported (default 3)

Needs the built CLI (npm run build) and the bible-kjv package (apt-get install bible-kjv).
Set BENCH_NO_GNU_TIME=1 to measure peak RSS without /usr/bin/time (node commands only).
`;
}

function die(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(1);
}

function log(message) {
  process.stderr.write(`${message}\n`);
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
  return {
    sizeMiB: positiveInteger('--size', parsed.values.size),
    runs: positiveInteger('--runs', parsed.values.runs),
  };
}

// ---------------------------------------------------------------------------------
// Data

/** The whole King James Bible as printed by the bible-kjv package (about 4.4 MB). */
function bibleText() {
  const result = spawnSync('bible', ['-f', 'Gen1:1-Rev22:21'], {
    maxBuffer: 64 * MiB,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.error?.code === 'ENOENT') {
    die(
      'the `bible` command was not found. The benchmark uses the King James Bible as its prose\n' +
        'sample; install it with:\n\n    sudo apt-get install bible-kjv\n',
    );
  }
  if (result.error) die(`bible: ${result.error.message}`);
  if (result.status !== 0 || result.stdout.length < 4_000_000) {
    die(
      `\`bible -f Gen1:1-Rev22:21\` failed (exit ${result.status}, ${result.stdout.length} bytes): ${result.stderr}`,
    );
  }
  return result.stdout;
}

/**
 * Writes `block` repeated (whole copies, so every count is an exact multiple) until the
 * file holds at least `minBytes`, unless a file of exactly that size is already there.
 * Returns the file's size and the number of copies.
 */
function ensureRepeated(path, block, minBytes) {
  const copies = Math.ceil(minBytes / block.length);
  const bytes = copies * block.length;
  if (existsSync(path) && statSync(path).size === bytes) return { bytes, copies };
  log(`creating ${relative(ROOT, path)} (${copies} copies, ${(bytes / 1e6).toFixed(1)} MB)…`);
  mkdirSync(dirname(path), { recursive: true });
  // Write aside and rename, so an interrupted run never leaves a file that looks reusable.
  const temporary = `${path}.tmp`;
  const perBatch = Math.max(1, Math.floor((16 * MiB) / block.length));
  const batch = Buffer.concat(Array(Math.min(perBatch, copies)).fill(block));
  const fd = openSync(temporary, 'w');
  try {
    for (let left = copies; left > 0; ) {
      const n = Math.min(left, perBatch);
      const piece = batch.subarray(0, n * block.length);
      for (let off = 0; off < piece.length; ) off += writeSync(fd, piece, off);
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  return { bytes, copies };
}

/** Reads a file once so that no timed run pays for the disk. */
function warmPageCache(path) {
  const buffer = Buffer.allocUnsafe(16 * MiB);
  const fd = openSync(path, 'r');
  try {
    while (readSync(fd, buffer, 0, buffer.length, null) > 0);
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------
// Subprocess measurement

const useGnuTime = existsSync(GNU_TIME) && !process.env.BENCH_NO_GNU_TIME;
const scratch = mkdtempSync(join(tmpdir(), 'wordcount-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

/**
 * Runs one command to completion: wall seconds, peak RSS in MiB (null when it cannot
 * be measured) and stdout. Any failure ends the benchmark.
 */
function measure(command, args) {
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
  if (result.status !== 0) {
    die(`${shown} exited with status ${result.status}:\n${result.stderr}`);
  }
  let rssMiB = null;
  if (existsSync(rssFile)) {
    // GNU time reports kilobytes (KiB) on its last line, as does resourceUsage().maxRSS.
    const kib = Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1));
    if (Number.isFinite(kib)) rssMiB = kib / 1024;
  }
  return { seconds, rssMiB, stdout: result.stdout };
}

/**
 * The naive Node word count: 16 MiB chunks, `split(/\s+/)` and a Map. Runs in a child
 * (`node -e`) from its source text, so it must not use anything outside its body.
 */
function naiveCount(path, fs) {
  const buffer = Buffer.allocUnsafe(16 * 1024 * 1024);
  const decoder = new TextDecoder(); // stream mode keeps UTF-8 sequences cut by a chunk
  const counts = new Map();
  const fd = fs.openSync(path, 'r');
  let carry = '';
  let total = 0;
  for (;;) {
    const n = fs.readSync(fd, buffer, 0, buffer.length, null);
    const text = carry + decoder.decode(buffer.subarray(0, n), { stream: n > 0 });
    const words = text.split(/\s+/);
    // The last piece may go on in the next chunk: hold it back until then.
    carry = n > 0 ? words.pop() : '';
    for (const word of words) {
      if (word === '') continue;
      total++;
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
    if (n === 0) break;
  }
  console.log(JSON.stringify({ totalWords: total, distinctWords: counts.size }));
}

function wordcountCase(name, file, mode, workers, top = 5) {
  return {
    name,
    command: process.execPath,
    args: [
      CLI,
      'count',
      file,
      '--mode',
      mode,
      '--workers',
      String(workers),
      '--json',
      '--top',
      String(top),
    ],
    mode,
    workers,
    parse: (stdout) => JSON.parse(stdout),
  };
}

/** Runs every case `runs` times, round-robin, and keeps each case's medians. */
function runCases(cases, runs, bytes) {
  const samples = cases.map(() => []);
  for (let run = 1; run <= runs; run++) {
    cases.forEach((c, i) => {
      const sample = measure(c.command, c.args);
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
      outputs: samples[i].map((s) => c.parse(s.stdout)),
    };
  });
}

// ---------------------------------------------------------------------------------
// Thread boundary

/**
 * Worker side of the crossing test: builds a CountResult-shaped object whose JSON is
 * about `bytes` long, then, timed, stringifies it and posts it back the way the
 * counter worker replies. Runs from its source text (`eval: true`, CommonJS).
 */
function crossingWorker({ parentPort }) {
  const now = () => performance.timeOrigin + performance.now();
  parentPort.on('message', ({ bytes }) => {
    const lines = [];
    let jsonBytes = 100; // the other fields and the braces
    for (let i = 0; jsonBytes < bytes; i++) {
      const line = `w${i.toString(36)}\t${(i % 997) + 1}\n`;
      lines.push(line);
      jsonBytes += line.length + 2; // \t and \n are escaped as two characters each
    }
    const entries = lines.join('');
    const value = {
      entries,
      tokens: lines.length,
      invalidSequences: 0,
      longTokens: 0,
      bytesScanned: bytes,
    };
    const started = now();
    const result = JSON.stringify(value);
    const posted = now();
    parentPort.postMessage({ id: 0, ok: true, result, started, posted });
  });
}

/** Times stringify, postMessage and JSON.parse of a ~`bytes` result, median of `runs`. */
async function measureCrossing(bytes, runs) {
  const worker = new Worker(`(${crossingWorker})(require('node:worker_threads'))`, {
    eval: true,
  });
  const now = () => performance.timeOrigin + performance.now();
  const samples = [];
  try {
    for (let run = 0; run < runs; run++) {
      const sample = await new Promise((resolvePromise, reject) => {
        worker.once('error', reject);
        worker.once('message', (reply) => {
          const received = now();
          const parsed = JSON.parse(reply.result);
          const done = now();
          worker.off('error', reject);
          resolvePromise({
            jsonBytes: reply.result.length,
            tokens: parsed.tokens,
            stringifyMs: reply.posted - reply.started,
            postMs: received - reply.posted,
            parseMs: done - received,
          });
        });
        worker.postMessage({ bytes });
      });
      samples.push(sample);
    }
  } finally {
    await worker.terminate();
  }
  const pick = (key) => median(samples.map((s) => s[key]));
  const jsonBytes = samples[0].jsonBytes;
  const stringifyMs = pick('stringifyMs');
  const postMs = pick('postMs');
  const parseMs = pick('parseMs');
  const crossingMs = postMs + parseMs;
  return {
    jsonBytes,
    stringifyMs,
    postMs,
    parseMs,
    crossingMs,
    msPerMB: crossingMs / (jsonBytes / 1e6),
  };
}

// ---------------------------------------------------------------------------------
// Reporting

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A markdown table, padded so it also reads well in a terminal. */
function markdownTable(headers, rows, align) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) =>
    `| ${cells.map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

const fixed = (value, digits) => (value === null ? 'n/a' : value.toFixed(digits));

function firstLine(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.split('\n')[0].trim() : 'unknown';
}

function machine() {
  const nproc = firstLine('nproc', []);
  return [
    `- date: ${new Date().toISOString()}`,
    `- machine: nproc ${nproc === 'unknown' ? availableParallelism() : nproc}, CPU ${cpus()[0]?.model.trim() ?? 'unknown'}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    `- node ${process.version}; ${firstLine('wc', ['--version'])}; awk: ${firstLine('awk', ['--version'])}`,
    `- locale: LANG=${process.env.LANG ?? ''} LC_ALL=${process.env.LC_ALL ?? ''}`,
    `- peak RSS: ${useGnuTime ? 'GNU time %M' : 'process.resourceUsage().maxRSS (node commands only)'}`,
  ].join('\n');
}

/** Warns when the TypeScript sources are newer than the compiled CLI. */
function staleBuildWarning() {
  const built = statSync(CLI).mtimeMs;
  const newer = readdirSync(join(ROOT, 'lib'), { recursive: true })
    .filter((f) => f.endsWith('.ts'))
    .filter((f) => statSync(join(ROOT, 'lib', f)).mtimeMs > built);
  return newer.length > 0
    ? `> note: dist/ is older than ${newer.map((f) => `lib/${f}`).join(', ')}; run \`npm run build\` to bench the current sources.`
    : '';
}

// ---------------------------------------------------------------------------------
// Main

async function main() {
  const { sizeMiB, runs } = parseOptions(process.argv.slice(2));
  if (!existsSync(CLI)) die(`${relative(ROOT, CLI)} not found: run \`npm run build\` first.`);

  const kjvFile = join(DATA_DIR, `kjv-${sizeMiB}m.txt`);
  const { bytes: kjvBytes, copies: kjvCopies } = ensureRepeated(
    kjvFile,
    bibleText(),
    sizeMiB * MiB,
  );
  const cjkFile = join(DATA_DIR, 'cjk.txt');
  const { bytes: cjkBytes } = ensureRepeated(
    cjkFile,
    Buffer.from(`${CJK_SENTENCES.join('\n')}\n`),
    CJK_BYTES,
  );
  warmPageCache(kjvFile);
  warmPageCache(cjkFile);

  const out = [];
  out.push('# wordcount benchmark', '', machine(), '');
  const stale = staleBuildWarning();
  if (stale) out.push(stale, '');

  // Prose: baselines and the CLI, interleaved.
  log(`prose: ${relative(ROOT, kjvFile)} (${(kjvBytes / 1e6).toFixed(1)} MB), ${runs} run(s)`);
  const wcCase = {
    name: 'wc -w',
    command: 'wc',
    args: ['-w', kjvFile],
    parse: (stdout) => ({ totalWords: Number(stdout.trim().split(/\s+/)[0]) }),
  };
  const awkCase = {
    name: 'awk frequency count',
    command: 'awk',
    args: [AWK_PROGRAM, kjvFile],
    parse: (stdout) => ({ distinctWords: Number(stdout.trim()) }),
  };
  const naiveCase = {
    name: 'naive node (split + Map)',
    command: process.execPath,
    args: ['-e', `(${naiveCount})(process.argv[1], require('node:fs'))`, kjvFile],
    parse: (stdout) => JSON.parse(stdout),
  };
  const prose = runCases(
    [
      wcCase,
      awkCase,
      naiveCase,
      wordcountCase('wordcount whitespace, 1 worker', kjvFile, 'whitespace', 1),
      wordcountCase('wordcount whitespace, 2 workers', kjvFile, 'whitespace', 2),
      wordcountCase('wordcount words, 1 worker', kjvFile, 'words', 1),
      wordcountCase('wordcount words, 2 workers', kjvFile, 'words', 2),
    ],
    runs,
    kjvBytes,
  );
  const byName = (name) => prose.find((r) => r.name === name);
  const wc = byName('wc -w');
  const oneWorker = (mode) => prose.find((r) => r.mode === mode && r.workers === 1);

  out.push(
    `## Prose: King James Bible ×${kjvCopies} (${(kjvBytes / 1e6).toFixed(1)} MB), median of ${runs} run(s)`,
    '',
    markdownTable(
      ['name', 'median s', 'MB/s', 'vs wc -w', 'vs 1 worker', 'peak RSS MiB'],
      prose.map((r) => {
        const base = r.workers > 1 ? oneWorker(r.mode) : undefined;
        return [
          r.name,
          r.seconds.toFixed(3),
          r.mbps.toFixed(1),
          `${(wc.seconds / r.seconds).toFixed(2)}×`,
          base ? `${(base.seconds / r.seconds).toFixed(2)}×` : '',
          fixed(r.rssMiB, 1),
        ];
      }),
      ['l', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    'vs wc -w and vs 1 worker are speed-ups (time of the reference / time of the row; > 1 is faster).',
    '',
  );

  // CJK: words mode only (whitespace mode would see whole sentences as tokens).
  log(`cjk: ${relative(ROOT, cjkFile)} (${(cjkBytes / 1e6).toFixed(1)} MB), ${runs} run(s)`);
  const cjk = runCases(
    [
      wordcountCase('wordcount words, 1 worker', cjkFile, 'words', 1, 10),
      wordcountCase('wordcount words, 2 workers', cjkFile, 'words', 2, 10),
    ],
    runs,
    cjkBytes,
  );
  const cjkSummary = cjk[1].outputs[0];
  out.push(
    `## CJK sample: ${CJK_SENTENCES.length} hand-written Japanese/Chinese sentences repeated (${(cjkBytes / 1e6).toFixed(1)} MB), words mode`,
    '',
    markdownTable(
      ['name', 'median s', 'MB/s', 'vs 1 worker', 'peak RSS MiB'],
      cjk.map((r, i) => [
        r.name,
        r.seconds.toFixed(3),
        r.mbps.toFixed(1),
        i > 0 ? `${(cjk[0].seconds / r.seconds).toFixed(2)}×` : '',
        fixed(r.rssMiB, 1),
      ]),
      ['l', 'r', 'r', 'r', 'r'],
    ),
    '',
    `Top 10 words (${cjkSummary.totalWords.toLocaleString('en-US')} total, ${cjkSummary.distinctWords.toLocaleString('en-US')} distinct):`,
    '',
    markdownTable(
      ['#', 'word', 'count'],
      cjkSummary.top.map((t, i) => [String(i + 1), t.word, t.count.toLocaleString('en-US')]),
      ['r', 'l', 'r'],
    ),
    '',
  );

  // Thread boundary: partial results leave the workers as JSON text.
  log('thread boundary: postMessage + JSON.parse of 1 MB and 8 MB results');
  const crossingRuns = Math.max(5, runs);
  const crossings = [];
  for (const mb of [1, 8]) crossings.push(await measureCrossing(mb * 1e6, crossingRuns));
  out.push(
    `## Thread boundary: a JSON result string from a worker to the main thread, median of ${crossingRuns}`,
    '',
    markdownTable(
      [
        'JSON MB',
        'stringify ms (worker)',
        'postMessage ms',
        'JSON.parse ms',
        'post + parse ms',
        'ms per MB',
      ],
      crossings.map((c) => [
        (c.jsonBytes / 1e6).toFixed(2),
        c.stringifyMs.toFixed(2),
        c.postMs.toFixed(2),
        c.parseMs.toFixed(2),
        c.crossingMs.toFixed(2),
        c.msPerMB.toFixed(2),
      ]),
      ['r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
  );

  // Targets.
  const ws1 = oneWorker('whitespace');
  const ws2 = prose.find((r) => r.mode === 'whitespace' && r.workers === 2);
  const words2 = prose.find((r) => r.mode === 'words' && r.workers === 2);
  const speedup = ws1.seconds / ws2.seconds;
  const verdict = (ok) => (ok ? 'met' : '**NOT MET**');
  out.push(
    '## Targets',
    '',
    `- whitespace, 1 worker >= ${TARGETS.whitespaceOneWorkerMBps} MB/s: ${ws1.mbps.toFixed(1)} MB/s, ${verdict(ws1.mbps >= TARGETS.whitespaceOneWorkerMBps)}`,
    `- whitespace, 2 workers >= ${TARGETS.whitespaceTwoWorkerSpeedup}× 1 worker: ${speedup.toFixed(2)}×, ${verdict(speedup >= TARGETS.whitespaceTwoWorkerSpeedup)}`,
    `- words, 2 workers >= ${TARGETS.wordsTwoWorkersMBps} MB/s: ${words2.mbps.toFixed(1)} MB/s, ${verdict(words2.mbps >= TARGETS.wordsTwoWorkersMBps)}`,
    '',
  );

  // Correctness checks. On ASCII prose wordcount's whitespace tokens are exactly wc's
  // words; the other checks cross-check the rest of the outputs.
  const expected = wc.outputs[0].totalWords;
  // One line per case; a case is wrong if any of its runs is.
  const checks = prose
    .filter((r) => r.mode === 'whitespace')
    .map((r) => ({
      label: `${r.name}: totalWords = wc -w (all ${runs} run(s))`,
      actual: r.outputs.map((o) => o.totalWords).find((n) => n !== expected) ?? expected,
      want: expected,
      fatal: true,
    }));
  checks.push(
    {
      label: 'naive node: total words = wc -w',
      actual: byName(naiveCase.name).outputs[0].totalWords,
      want: expected,
    },
    {
      label: 'awk distinct words = wordcount whitespace distinctWords',
      actual: byName(awkCase.name).outputs[0].distinctWords,
      want: ws1.outputs[0].distinctWords,
    },
    {
      label: 'wordcount words: 2 workers totalWords = 1 worker',
      actual: words2.outputs[0].totalWords,
      want: oneWorker('words').outputs[0].totalWords,
    },
    {
      label: 'CJK words: 2 workers totalWords = 1 worker',
      actual: cjk[1].outputs[0].totalWords,
      want: cjk[0].outputs[0].totalWords,
    },
  );
  out.push('## Checks', '');
  for (const c of checks) {
    const ok = c.actual === c.want;
    out.push(`- ${ok ? 'ok' : '**MISMATCH**'}: ${c.label} (${c.actual} vs ${c.want})`);
  }
  out.push('');
  process.stdout.write(`${out.join('\n')}\n`);

  const fatal = checks.filter((c) => c.fatal && c.actual !== c.want);
  if (fatal.length > 0) {
    process.stderr.write(
      `\n${'!'.repeat(72)}\nbench: MISMATCH: wordcount --mode whitespace counted ${fatal[0].actual} words, wc -w counted ${expected}\n${'!'.repeat(72)}\n`,
    );
    process.exitCode = 1;
  }
}

await main();
