/**
 * Token rules for the two modes, as pure functions over code points and strings.
 * The byte-level kernel in count.ts uses the tables and predicates here; nothing in
 * this module does I/O.
 */

export const MODES = ['words', 'whitespace'] as const;
export type Mode = (typeof MODES)[number];

/**
 * `--ngram`'s orders: 1 (single tokens, the kernel's own count) to 5. An n-gram is N
 * consecutive tokens of a line joined by one space (lib/kernel/host-text.ts).
 */
export const MAX_NGRAM = 5;

/** Python's `str.isspace` set, which `str.split()` splits on (29 code points). */
export const PYTHON_WHITESPACE: readonly number[] = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001,
  0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f,
  0x205f, 0x3000,
];

/** 1 for ASCII bytes that are Python whitespace. */
export const ASCII_WHITESPACE = new Uint8Array(128);
for (const cp of PYTHON_WHITESPACE) if (cp < 128) ASCII_WHITESPACE[cp] = 1;

export function isPythonWhitespace(cp: number): boolean {
  if (cp < 0x80) return ASCII_WHITESPACE[cp] === 1;
  if (cp < 0x1680) return cp === 0x85 || cp === 0xa0;
  if (cp >= 0x2000 && cp <= 0x200a) return true;
  return (
    cp === 0x1680 ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

/** Character classes of `words` mode. */
export const SEP = 0;
/** Letters, marks and numbers of scripts written with spaces. */
export const WORD = 1;
/** Apostrophes and hyphens: part of a word only between two WORD characters. */
export const JOINER = 2;
/** Letters of scripts written without spaces, segmented with Intl.Segmenter. */
export const SCRIPT_RUN = 3;

/** `words` class of each ASCII byte. */
export const ASCII_WORD_CLASS = new Uint8Array(128);
for (let b = 0; b < 128; b++) {
  const c = String.fromCharCode(b);
  if (/[A-Za-z0-9]/.test(c)) ASCII_WORD_CLASS[b] = WORD;
}
ASCII_WORD_CLASS[0x27] = JOINER; // '
ASCII_WORD_CLASS[0x2d] = JOINER; // -

/** Lower-cases ASCII letters; every other byte maps to itself. */
export const ASCII_LOWER = new Uint8Array(256);
for (let b = 0; b < 256; b++) ASCII_LOWER[b] = b >= 0x41 && b <= 0x5a ? b + 32 : b;

const JOINER_CODE_POINTS = new Set([0x27, 0x2d, 0x2019, 0x2010, 0x2011]);
const WORD_RE = /^[\p{L}\p{M}\p{N}]$/u;
const NO_SPACE_SCRIPT_RE =
  /^[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Thai}\p{scx=Lao}\p{scx=Khmer}\p{scx=Myanmar}]$/u;

// Classes of code points, filled lazily: 0 = not computed yet, otherwise class + 1.
const classCache = new Uint8Array(0x110000);

/** The `words` class of a code point. */
export function wordClass(cp: number): number {
  const cached = classCache[cp] as number;
  if (cached !== 0) return cached - 1;
  let cls = SEP;
  if (JOINER_CODE_POINTS.has(cp)) cls = JOINER;
  else {
    const ch = String.fromCodePoint(cp);
    if (WORD_RE.test(ch)) cls = NO_SPACE_SCRIPT_RE.test(ch) ? SCRIPT_RUN : WORD;
  }
  classCache[cp] = cls + 1;
  return cls;
}

/**
 * Folds a `words` token: full case folding approximated as lower(upper(w)) (so
 * "Straße" and "STRASSE" meet), final sigma folded to σ, NFC, and typographic
 * apostrophes and hyphens written as ASCII.
 */
export function foldWord(word: string): string {
  let w = word.toUpperCase().toLowerCase();
  if (w.includes('ς')) w = w.replaceAll('ς', 'σ');
  w = w.normalize('NFC');
  if (/[\u2019\u2010\u2011]/.test(w)) w = w.replace(/\u2019/g, "'").replace(/[\u2010\u2011]/g, '-');
  return w;
}

/** Characters of a no-space script fed to the segmenter at once (it is superlinear). */
export const SEGMENT_WINDOW_CHARS = 128;

/**
 * A run of each script whose dictionary ICU loads lazily: Chinese/Japanese, Thai, Lao,
 * Khmer, Burmese. ICU answers a process's first Chinese/Japanese run differently from
 * every later one (`ーのか` comes out `ーの|か` once, then `ー|の|か`; issue 14), so every
 * dictionary is loaded before anything is counted and no result depends on what a
 * process segmented before.
 */
export const DICTIONARY_SAMPLES: readonly string[] = [
  '中文',
  'のの',
  'ภาษาไทย',
  'ພາສາລາວ',
  'ភាសាខ្មែរ',
  'မြန်မာဘာသာ',
];

// Made on first use: a count without such scripts never loads the segmenter's data.
let segmenter: Intl.Segmenter | undefined;

function readySegmenter(): Intl.Segmenter {
  const made = new Intl.Segmenter('und', { granularity: 'word' });
  for (const sample of DICTIONARY_SAMPLES) Array.from(made.segment(sample));
  return made;
}

/**
 * Splits a run of no-space-script text into words. When `complete` is false the last
 * segment may be cut by the window, so it is returned as `rest` instead of counted.
 */
export function segmentRun(text: string, complete: boolean): { words: string[]; rest: string } {
  const words: string[] = [];
  let last: Intl.SegmentData | undefined;
  segmenter ??= readySegmenter();
  for (const segment of segmenter.segment(text)) {
    if (last?.isWordLike) words.push(last.segment);
    last = segment;
  }
  if (last === undefined) return { words, rest: '' };
  // A window with a single segment is counted as it is, so a run always makes progress.
  if (complete || (words.length === 0 && last.index === 0)) {
    if (last.isWordLike) words.push(last.segment);
    return { words, rest: '' };
  }
  return { words, rest: text.slice(last.index) };
}

/** Folds a segment of a no-space script: these scripts have no case, so NFC is all. */
export function foldSegment(segment: string): string {
  return segment.normalize('NFC');
}
