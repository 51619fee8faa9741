/**
 * ICU loads each no-space script's dictionary on first use, and the first
 * Chinese/Japanese run a process segments used to come out differently (issue 14). These
 * tests count in fresh processes, as a cold counter does, so nothing this test process
 * segmented before can hide a first-call difference.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countBytes } from '../../lib/kernel/range-counter.js';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('../fixtures/segment-in-fresh-process.mjs', import.meta.url));

/** Counts `texts` in a new process, in order or reversed; each text's sorted lines. */
async function countFresh(texts: string[], order: 'forward' | 'reverse'): Promise<string[][]> {
  const dir = await mkdtemp(join(tmpdir(), 'segmenter-'));
  const path = join(dir, 'texts.json');
  await writeFile(path, JSON.stringify(texts));
  const { stdout } = await run(process.execPath, [fixture, path, order]);
  return JSON.parse(stdout) as string[][];
}

function countHere(text: string): string[] {
  return countBytes('words', new TextEncoder().encode(text))
    .entries.split('\n')
    .filter(Boolean)
    .sort();
}

/** Runs that each dictionary script segments in an unusual way: marks first, prolonged sounds. */
const TRICKY_RUNS: Record<string, string[]> = {
  japanese: ['ーのか', 'ー東京', '\u309aーのか', 'ーの', 'ーカタカナ', 'ヽのか'],
  chinese: ['ー中文', '的东西', '中文字', '々中国人民'],
  thai: ['\u0e4dกข', '\u0e48ภาษา', 'ๆไทย', 'สวัสดีครับ', 'ั้งแต่'],
  lao: ['ໆລາວ', '\u0eb8ພາສາ', 'ພາສາລາວ'],
  khmer: ['\u17c9ភាសា', 'ភាសាខ្មែរ', '\u17d2ខ្មែរ'],
  burmese: ['\u1037မြန်မာ', 'မြန်မာဘာသာ', '\u103aဘာသာ'],
};

describe('words mode in a fresh process', () => {
  for (const [script, runs] of Object.entries(TRICKY_RUNS)) {
    it(`counts each ${script} run on a process's first call as on any later call`, async () => {
      // One process per run: each is its process's first text to segment.
      const firsts = await Promise.all(runs.map((r) => countFresh([r], 'forward')));
      runs.forEach((r, i) => {
        expect(firsts[i]?.[0], JSON.stringify(r)).toEqual(countHere(r));
      });
    });
  }

  it('counts any runs the same whatever order a fresh process meets them in', async () => {
    const runs = Object.values(TRICKY_RUNS).flat();
    const chars = [...runs.join(''), ' ', 'a', '。'];
    // Whole tricky runs and single characters, past a segmentation window (128) at times.
    const text = fc
      .array(fc.oneof(fc.constantFrom(...runs), fc.constantFrom(...chars)), {
        minLength: 1,
        maxLength: 80,
      })
      .map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(fc.array(text, { minLength: 2, maxLength: 12 }), async (texts) => {
        const [forward, reverse] = await Promise.all([
          countFresh(texts, 'forward'),
          countFresh(texts, 'reverse'),
        ]);
        expect(reverse).toEqual(forward);
        expect(forward).toEqual(texts.map(countHere));
      }),
      { numRuns: 12 },
    );
  });
});
