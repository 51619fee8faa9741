/**
 * The prose section: the King James Bible repeated to a few hundred MB, the CLI against
 * `wc -w`, an awk frequency count and the naive Node split + Map; Chinese text in words
 * mode against bare Intl.Segmenter; and the CLI's start-up (a one-line file).
 */

import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { bibleText, chineseText, ensureRepeated, warmPageCache } from './data.mjs';
import {
  fixed,
  log,
  MiB,
  markdownTable,
  runCases,
  wordcountCase as wordcountCaseOf,
} from './measure.mjs';

const CHINESE_BYTES = 8 * MiB;

const TARGETS = {
  /** whitespace, 1 worker, end to end: at most this many times the time of `wc -w`. */
  whitespaceOneWorkerVsWc: 1.5,
  /** 2 workers at least this many times faster than 1 (whitespace). */
  twoWorkerSpeedup: 1.6,
  /** words, 2 workers: at most this many times the time of whitespace, 2 workers. */
  wordsVsWhitespaceTwoWorkers: 1.25,
  /** Chinese words mode, 1 worker: at least this fraction of bare Intl.Segmenter's speed. */
  chineseVsSegmenter: 0.75,
};

const AWK_PROGRAM = '{for(i=1;i<=NF;i++) c[$i]++} END{for(w in c) n++; print n}';

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
 * The segmenter's floor: Intl.Segmenter fed line by line, word-like segments counted in
 * a Map. Runs in a child (`node -e`) from its source text.
 */
function bareSegmenter(path, fs) {
  const segmenter = new Intl.Segmenter('und', { granularity: 'word' });
  const counts = new Map();
  let total = 0;
  for (const line of fs.readFileSync(path, 'utf8').split('\n')) {
    for (const s of segmenter.segment(line)) {
      if (!s.isWordLike) continue;
      total++;
      counts.set(s.segment, (counts.get(s.segment) ?? 0) + 1);
    }
  }
  console.log(JSON.stringify({ totalWords: total, distinctWords: counts.size }));
}

/** Runs the section; returns its markdown lines, its correctness checks and its targets. */
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
  const chineseFile = join(dataDir, 'chinese.txt');
  const { bytes: chineseBytes } = ensureRepeated(chineseFile, chineseText(), CHINESE_BYTES, root);
  const tinyFile = join(dataDir, 'one-line.txt');
  writeFileSync(tinyFile, 'In the beginning God created the heaven and the earth.\n');
  warmPageCache(kjvFile);
  warmPageCache(chineseFile);
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
  const find = (mode, workers) => prose.find((r) => r.mode === mode && r.workers === workers);

  out.push(
    `## Prose: King James Bible ×${kjvCopies} (${(kjvBytes / 1e6).toFixed(1)} MB), median of ${runs} run(s)`,
    '',
    markdownTable(
      ['name', 'median s', 'MB/s', 'time / wc -w', 'vs 1 worker', 'peak RSS MiB'],
      prose.map((r) => {
        const base = r.workers > 1 ? find(r.mode, 1) : undefined;
        return [
          r.name,
          r.seconds.toFixed(3),
          r.mbps.toFixed(1),
          `${(r.seconds / wc.seconds).toFixed(2)}×`,
          base ? `${(base.seconds / r.seconds).toFixed(2)}×` : '',
          fixed(r.rssMiB, 1),
        ];
      }),
      ['l', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    'time / wc -w: the time of the row over the time of `wc -w` (< 1 is faster); vs 1 worker: the speed-up of 2 workers.',
    '',
  );

  // Chinese: words mode only (whitespace mode would see whole lines as tokens).
  log(
    `chinese: ${relative(root, chineseFile)} (${(chineseBytes / 1e6).toFixed(1)} MB), ${runs} run(s)`,
  );
  const segmenterCase = {
    name: 'bare Intl.Segmenter, line by line',
    command: process.execPath,
    args: ['-e', `(${bareSegmenter})(process.argv[1], require('node:fs'))`, chineseFile],
    parse: (stdout) => JSON.parse(stdout),
  };
  const chinese = runCases(
    [
      segmenterCase,
      wordcountCase('wordcount words, 1 worker', chineseFile, 'words', 1, 10),
      wordcountCase('wordcount words, 2 workers', chineseFile, 'words', 2, 10),
    ],
    runs,
    chineseBytes,
  );
  const [segmenter, chinese1] = chinese;
  const chineseSummary = chinese[1].outputs[0];
  out.push(
    `## Chinese: Debian's fortunes-zh (prose, Tang and Song poetry) repeated (${(chineseBytes / 1e6).toFixed(1)} MB), words mode`,
    '',
    markdownTable(
      ['name', 'median s', 'MB/s', 'speed vs segmenter', 'peak RSS MiB'],
      chinese.map((r) => [
        r.name,
        r.seconds.toFixed(3),
        r.mbps.toFixed(2),
        `${(segmenter.seconds / r.seconds).toFixed(2)}×`,
        fixed(r.rssMiB, 1),
      ]),
      ['l', 'r', 'r', 'r', 'r'],
    ),
    '',
    `Top 10 words (${chineseSummary.totalWords.toLocaleString('en-US')} total, ${chineseSummary.distinctWords.toLocaleString('en-US')} distinct):`,
    '',
    markdownTable(
      ['#', 'word', 'count'],
      chineseSummary.top.map((t, i) => [String(i + 1), t.word, t.count.toLocaleString('en-US')]),
      ['r', 'l', 'r'],
    ),
    '',
  );

  // Start-up: a one-line file is all start-up, worker threads and plumbing.
  log(`start-up: ${relative(root, tinyFile)}, ${Math.max(5, runs)} run(s)`);
  const startup = runCases(
    [
      { name: 'node -e 0', command: process.execPath, args: ['-e', '0'], parse: () => ({}) },
      wordcountCase('wordcount count one-line.txt, 1 worker', tinyFile, 'words', 1),
    ],
    Math.max(5, runs),
    1,
  );
  out.push(
    '## Start-up: counting a one-line file (the time to the first counted byte, and back)',
    '',
    markdownTable(
      ['name', 'median s', 'over node -e 0'],
      startup.map((r) => [
        r.name,
        r.seconds.toFixed(3),
        `${((r.seconds - startup[0].seconds) * 1000).toFixed(0)} ms`,
      ]),
      ['l', 'r', 'r'],
    ),
    '',
  );

  // Targets.
  const ws1 = find('whitespace', 1);
  const ws2 = find('whitespace', 2);
  const words2 = find('words', 2);
  const verdict = (ok) => (ok ? 'met' : '**NOT MET**');
  const vsWc = ws1.seconds / wc.seconds;
  const speedup = ws1.seconds / ws2.seconds;
  const wordsVsWs = words2.seconds / ws2.seconds;
  const vsSegmenter = segmenter.seconds / chinese1.seconds;
  const targets = [
    `- whitespace, 1 worker: at most ${TARGETS.whitespaceOneWorkerVsWc}× the time of wc -w: ${vsWc.toFixed(2)}×, ${verdict(vsWc <= TARGETS.whitespaceOneWorkerVsWc)}`,
    `- whitespace, 2 workers: at least ${TARGETS.twoWorkerSpeedup}× faster than 1: ${speedup.toFixed(2)}×, ${verdict(speedup >= TARGETS.twoWorkerSpeedup)}`,
    `- words, 2 workers: within ${TARGETS.wordsVsWhitespaceTwoWorkers}× of whitespace, 2 workers: ${wordsVsWs.toFixed(2)}×, ${verdict(wordsVsWs <= TARGETS.wordsVsWhitespaceTwoWorkers)}`,
    `- Chinese words mode, 1 worker: at least ${TARGETS.chineseVsSegmenter}× the speed of bare Intl.Segmenter: ${vsSegmenter.toFixed(2)}×, ${verdict(vsSegmenter >= TARGETS.chineseVsSegmenter)}`,
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
      want: find('words', 1).outputs[0].totalWords,
    },
    {
      label: 'Chinese words: 2 workers totalWords = 1 worker',
      actual: chinese[2].outputs[0].totalWords,
      want: chinese[1].outputs[0].totalWords,
    },
  );
  return { lines: out, checks, targets };
}
