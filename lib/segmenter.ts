/**
 * The segmenters of `words` mode for runs of no-space scripts: ICU (Intl.Segmenter) and
 * jieba (@node-rs/jieba, its default dictionary). `auto` gives a window whose every
 * character is Han to jieba and every other window to ICU.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export const SEGMENTERS = ['auto', 'icu', 'jieba'] as const;
export type SegmenterName = (typeof SEGMENTERS)[number];
export const DEFAULT_SEGMENTER: SegmenterName = 'auto';

/** The jieba library as the summary names it; its default dictionary is the one loaded. */
export const JIEBA_LIBRARY = 'jieba-rs 0.10 (@node-rs/jieba 2.0.3)';

interface JiebaLike {
  cut(sentence: string, hmm?: boolean | null): string[];
}

// One per thread: the native object belongs to the thread that made it (about 150 ms
// and 45 MiB to load), made on first use so a count without Chinese never loads it.
let jieba: JiebaLike | undefined;

function loadJieba(): JiebaLike {
  const require = createRequire(import.meta.url);
  const { Jieba } = require('@node-rs/jieba') as {
    Jieba: { withDict(dict: Uint8Array): JiebaLike };
  };
  // Not '@node-rs/jieba/dict': the package has no exports map for ESM, and that module
  // also reads the 6 MB idf table, which counting does not use.
  return Jieba.withDict(readFileSync(require.resolve('@node-rs/jieba/dict.txt')));
}

/** jieba's words for a text, HMM on (as Python's `jieba.lcut(text, HMM=True)`). */
export function jiebaCut(text: string): string[] {
  jieba ??= loadJieba();
  return jieba.cut(text, true);
}

const HAN_RE = /^\p{Script=Han}$/u;
// Han by script, but written only in Japanese: 々 (repeat), 〆 (shime), 〻 (vertical repeat).
const JAPANESE_HAN = new Set([0x3005, 0x3006, 0x303b]);
const chineseCache = new Uint8Array(0x110000);

/** True for a character that makes a window Chinese in `auto`: Han, not a Japanese-only mark. */
export function isChineseChar(cp: number): boolean {
  const cached = chineseCache[cp] as number;
  if (cached !== 0) return cached === 2;
  const yes = !JAPANESE_HAN.has(cp) && HAN_RE.test(String.fromCodePoint(cp));
  chineseCache[cp] = yes ? 2 : 1;
  return yes;
}

/** The summary's names of the segmenters a run with `name` uses. */
export function segmenterVersions(name: SegmenterName): Record<string, string> {
  const icu = `ICU ${process.versions.icu ?? 'unknown'} (Intl.Segmenter)`;
  const jiebaText = `${JIEBA_LIBRARY}, default dictionary`;
  if (name === 'icu') return { icu };
  if (name === 'jieba') return { jieba: jiebaText };
  return { jieba: jiebaText, icu };
}

/** Characters of a Han run given to jieba at once; longer runs go in windows of this size. */
export const JIEBA_WINDOW_CHARS = 4096;

/**
 * Splits a window of a run with jieba. When `complete` is false the last word may be cut
 * by the window, so it is returned as `rest` instead of counted (as ICU's windows do).
 */
export function jiebaRun(text: string, complete: boolean): { words: string[]; rest: string } {
  const words = jiebaCut(text);
  // A window of a single word is counted as it is, so a run always makes progress.
  if (complete || words.length <= 1) return { words, rest: '' };
  const rest = words.pop() as string;
  // The next window starts where the held-back word does: it must end the text.
  if (!text.endsWith(rest)) throw new Error(`jieba: '${rest}' does not end its window`);
  return { words, rest };
}
