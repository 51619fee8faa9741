/** fast-check generators of hostile Unicode text. */
import fc from 'fast-check';
import { PYTHON_WHITESPACE } from '../../lib/tokenize.js';

const encoder = new TextEncoder();

/** Pieces chosen to hit every rule: each whitespace code point, 1- to 4-byte characters. */
const PIECES = [
  ...PYTHON_WHITESPACE.map((cp) => String.fromCodePoint(cp)),
  'a',
  'B',
  'z',
  'Q',
  '7',
  '0',
  "'",
  '-',
  '.',
  ',',
  '_',
  '"',
  '\u0000',
  '\u007f',
  'é',
  'ß',
  'Σ',
  'ς',
  'ü',
  'ñ',
  'İ',
  '\u0301',
  'Я',
  'ж',
  '’',
  '‐',
  '‑',
  '€',
  '—',
  '…',
  '\ufeff',
  '\ufffd',
  'ﬁ',
  'K',
  '東',
  '京',
  '日',
  '本',
  'の',
  'は',
  'タ',
  'ー',
  'ワ',
  '語',
  'ภ',
  'า',
  'ษ',
  'ไ',
  'ท',
  'ย',
  '한',
  '😀',
  '𝒜',
  '𠀋',
  '🇫',
  'the',
  'The',
  'don',
  "n't",
  'mother-in-law',
  'Straße',
  'STRASSE',
  'ΟΔΟΣ',
  '東京タワー',
];

const INVALID = [
  Array.from({ length: 20 }, () => 0x80),
  [0xff],
  [0x80],
  [0xc0, 0xaf],
  [0xe2, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf0, 0x9f],
  [0xc2],
  [0xf4, 0x90, 0x80, 0x80],
];

/** Valid UTF-8 text as bytes, built from PIECES and arbitrary strings. */
export const unicodeText = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...PIECES) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }) },
    ),
    { maxLength: 300 },
  )
  .map((parts) => encoder.encode(parts.join('')));

/** Text with ill-formed sequences and a possible leading BOM spliced in. */
export const hostileBytes = fc
  .tuple(
    fc.array(
      fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...PIECES).map((p) => [...encoder.encode(p)]) },
        { weight: 1, arbitrary: fc.constantFrom(...INVALID) },
      ),
      { maxLength: 300 },
    ),
    fc.boolean(),
  )
  .map(([parts, bom]) => new Uint8Array([...(bom ? [0xef, 0xbb, 0xbf] : []), ...parts.flat()]));

/**
 * Hostile text with tokens around and far past the kernel's cap: runs of one piece
 * (a letter, a multi-byte character, a CJK character, an invalid byte) repeated to
 * a few thousand bytes, between ordinary pieces.
 */
export const longTokenBytes = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...PIECES).map((p) => [...encoder.encode(p)]) },
      { weight: 1, arbitrary: fc.constantFrom(...INVALID) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(
            fc
              .constantFrom('x', 'é', '€', '😀', '東', 'ภ', "'", '\u0301')
              .map((p) => [...encoder.encode(p)]),
            fc.integer({ min: 1000, max: 5000 }),
          )
          .map(([piece, times]) => Array.from({ length: times }, () => piece).flat()),
      },
    ),
    { maxLength: 24 },
  )
  .map((parts) => new Uint8Array(parts.flat()));
