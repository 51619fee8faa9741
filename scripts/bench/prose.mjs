/**
 * The prose section: the King James Bible repeated to a few hundred MB, the CLI against
 * `wc -w`, an awk frequency count and the naive Node split + Map; a CJK sample in words
 * mode; and the cost of moving a partial result across the worker-thread boundary.
 */

import { join, relative } from 'node:path';
import { Worker } from 'node:worker_threads';
import { bibleText, ensureRepeated, warmPageCache } from './data.mjs';
import {
  fixed,
  log,
  MiB,
  markdownTable,
  median,
  runCases,
  wordcountCase as wordcountCaseOf,
} from './measure.mjs';

const CJK_BYTES = 20 * MiB;

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

/** Runs the section; returns its markdown lines and its correctness checks. */
export async function proseSection({ cli, root, dataDir, sizeMiB, runs }) {
  const wordcountCase = (name, file, mode, workers, top = 5) =>
    wordcountCaseOf(cli, name, [file], mode, workers, ['--top', String(top)]);
  const kjvFile = join(dataDir, `kjv-${sizeMiB}m.txt`);
  const { bytes: kjvBytes, copies: kjvCopies } = ensureRepeated(
    kjvFile,
    bibleText(),
    sizeMiB * MiB,
    root,
  );
  const cjkFile = join(dataDir, 'cjk.txt');
  const { bytes: cjkBytes } = ensureRepeated(
    cjkFile,
    Buffer.from(`${CJK_SENTENCES.join('\n')}\n`),
    CJK_BYTES,
    root,
  );
  warmPageCache(kjvFile);
  warmPageCache(cjkFile);
  const out = [];

  // Prose: baselines and the CLI, interleaved.
  log(`prose: ${relative(root, kjvFile)} (${(kjvBytes / 1e6).toFixed(1)} MB), ${runs} run(s)`);
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
  log(`cjk: ${relative(root, cjkFile)} (${(cjkBytes / 1e6).toFixed(1)} MB), ${runs} run(s)`);
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
  const targets = [
    `- whitespace, 1 worker >= ${TARGETS.whitespaceOneWorkerMBps} MB/s: ${ws1.mbps.toFixed(1)} MB/s, ${verdict(ws1.mbps >= TARGETS.whitespaceOneWorkerMBps)}`,
    `- whitespace, 2 workers >= ${TARGETS.whitespaceTwoWorkerSpeedup}× 1 worker: ${speedup.toFixed(2)}×, ${verdict(speedup >= TARGETS.whitespaceTwoWorkerSpeedup)}`,
    `- words, 2 workers >= ${TARGETS.wordsTwoWorkersMBps} MB/s: ${words2.mbps.toFixed(1)} MB/s, ${verdict(words2.mbps >= TARGETS.wordsTwoWorkersMBps)}`,
  ];

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
  return { lines: out, checks, targets };
}
