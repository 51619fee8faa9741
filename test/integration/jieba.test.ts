/**
 * words mode's segmenters: jieba against Python's jieba over Debian's fortunes-zh, the
 * `auto` routing (Chinese to jieba, kana and other no-space scripts to ICU), and jieba's
 * windows: counts independent of chunk size and worker count on runs past the cap.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countBytes } from '../../lib/kernel/range-counter.js';
import { isChineseChar, JIEBA_WINDOW_CHARS, type SegmenterName } from '../../lib/segmenter.js';
import { SCRIPT_RUN, wordClass } from '../../lib/tokenize.js';
import { ensureCorpusVenv } from '../../scripts/corpus-venv.mjs';
import { Embedded } from '../support/embedded.js';
import { countsTsvOf, fanOut, mergeEntries } from '../support/oracle.js';

const FORTUNES_ZH = ['chinese', 'tang300', 'song100'].map(
  (name) => `/usr/share/games/fortunes/${name}`,
);
const fixture = new URL('../fixtures/jieba_counts.py', import.meta.url).pathname;
const encode = (s: string) => new TextEncoder().encode(s);

/** fortunes-zh as the benchmark reads it (scripts/bench/data.mjs chineseText). */
function fortunesZh(): string {
  const missing = FORTUNES_ZH.find((path) => !existsSync(path));
  if (missing) throw new Error(`${missing} is missing: apt-get install fortunes-zh`);
  return FORTUNES_ZH.map((path) => readFileSync(path, 'utf8'))
    .join('\n')
    .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '')
    .replace(/^%$/gm, '');
}

/** The runs of no-space-script characters (lib/tokenize.ts classes) that are all Chinese. */
function chineseRuns(text: string): string[] {
  const runs: string[] = [];
  let run = '';
  let chinese = true;
  for (const ch of `${text} `) {
    const cp = ch.codePointAt(0) as number;
    if (wordClass(cp) === SCRIPT_RUN) {
      run += ch;
      chinese &&= isChineseChar(cp);
      continue;
    }
    if (run !== '' && chinese) runs.push(run);
    run = '';
    chinese = true;
  }
  return runs;
}

function countsOf(text: string, segmenter: SegmenterName): Map<string, number> {
  const counts = new Map<string, number>();
  mergeEntries(counts, countBytes('words', encode(text), segmenter).entries);
  return counts;
}

describe('jieba against Python jieba', () => {
  it('counts every Chinese run of fortunes-zh as jieba.lcut(run, HMM=True) does', () => {
    const runs = chineseRuns(fortunesZh());
    expect(runs.length).toBeGreaterThan(60_000);
    // Under the cap each run is one window: whole runs, as Python is given them.
    expect(Math.max(...runs.map((r) => [...r].length))).toBeLessThan(JIEBA_WINDOW_CHARS);
    const python = execFileSync(ensureCorpusVenv(), [fixture], {
      input: JSON.stringify(runs),
      maxBuffer: 1 << 28,
    }).toString();
    const expected = new Map<string, number>();
    // Our words are NFC (compatibility ideographs meet their unified forms).
    for (const [word, count] of Object.entries(JSON.parse(python) as Record<string, number>)) {
      const w = word.normalize('NFC');
      expected.set(w, (expected.get(w) ?? 0) + count);
    }
    const text = runs.join('\n');
    expect(countsTsvOf(countsOf(text, 'auto'))).toBe(countsTsvOf(expected));
    expect(countsTsvOf(countsOf(text, 'jieba'))).toBe(countsTsvOf(expected));
  }, 120_000);
});

describe('the auto segmenter', () => {
  it('gives Han runs to jieba and runs with kana (or other scripts) to ICU', () => {
    const chinese = '我们今天去北京大学看看';
    const japanese = '東京大学の学生です';
    const thai = 'ภาษาไทย';
    for (const text of [chinese, japanese, thai, '日々の生活']) {
      const auto = countsTsvOf(countsOf(text, 'auto'));
      const wanted = text === chinese ? 'jieba' : 'icu';
      expect(auto, text).toBe(countsTsvOf(countsOf(text, wanted)));
    }
    // The two differ on this text, so the routing is what decided it.
    expect(countsTsvOf(countsOf(chinese, 'jieba'))).not.toBe(countsTsvOf(countsOf(chinese, 'icu')));
    // A run is decided whole: one kana makes the Han before it ICU's too.
    const mixed = `${chinese}の`;
    expect(countsTsvOf(countsOf(mixed, 'auto'))).toBe(countsTsvOf(countsOf(mixed, 'icu')));
  });
});

describe('jieba windows', () => {
  let dir: string;
  const pools = new Map<number, Embedded>();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wordcount-jieba-'));
    for (const size of [1, 3]) pools.set(size, await Embedded.create(size));
  });
  afterAll(async () => {
    for (const pool of pools.values()) await pool.close();
  });

  const phrases = chineseRuns(fortunesZh()).slice(0, 400);
  // Runs over the cap: 600 Chinese phrases (about 4,500 characters) joined with no
  // break, then a kana, a stop, a space or Thai.
  const longText = fc
    .tuple(
      fc.array(fc.constantFrom(...phrases), { minLength: 1200, maxLength: 1800 }),
      fc.constantFrom('の', '。', ' ', 'ภาษา'),
    )
    .map(([parts, stop]) => parts.map((p, i) => (i % 600 === 599 ? `${p}${stop}` : p)).join(''));

  it('makes runs longer than the cap', () => {
    fc.assert(
      fc.property(longText, (text) => {
        const longest = Math.max(...text.split(/[の。 ]|ภาษา/).map((r) => [...r].length));
        expect(longest).toBeGreaterThan(JIEBA_WINDOW_CHARS);
      }),
      { numRuns: 20 },
    );
  });

  for (const segmenter of ['jieba', 'auto'] as const) {
    it(`counts runs past the cap the same in ranges of 1 to 7 bytes, fed in pieces of 512 to 8192 (${segmenter})`, () => {
      fc.assert(
        fc.property(
          longText,
          fc.integer({ min: 1, max: 7 }),
          // Each piece scans the carried window again: small pieces make it quadratic.
          fc.integer({ min: 512, max: 8192 }),
          (text, chunkSize, pieceSize) => {
            const bytes = encode(text);
            const { counts } = fanOut('words', bytes, chunkSize, pieceSize, segmenter);
            expect(countsTsvOf(counts)).toBe(countsTsvOf(countsOf(text, segmenter)));
          },
        ),
        { numRuns: 2 },
      );
    }, 300_000);

    it(`counts runs past the cap the same for any chunk size and 1 or 3 workers (${segmenter})`, async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(
          longText,
          fc.integer({ min: 1, max: 4096 }),
          fc.constantFrom(1, 3),
          async (text, chunkSize, workers) => {
            const bytes = encode(text);
            const path = join(dir, `${segmenter}-${n++}.txt`);
            await writeFile(path, bytes);
            const size = Math.max(chunkSize, Math.ceil(bytes.length / 2000));
            const { tsv } = await (pools.get(workers) as Embedded).count([path], {
              mode: 'words',
              chunkSize: size,
              records: { segmenter },
            });
            expect(tsv).toBe(countsTsvOf(countsOf(text, segmenter)));
          },
        ),
        { numRuns: 5 },
      );
    }, 300_000);
  }
});
