/**
 * The host's tokens of a line (lib/kernel/line-tokens.ts, what n-grams and document
 * counts are made of) against the single-pass reference tokenizer, in order: ASCII lines
 * full of joiners and separators (the regular-expression path), and hostile lines
 * (invalid bytes, every script, tokens past the cap).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LineStats, lineTokens } from '../../lib/kernel/line-tokens.js';
import { MODES } from '../../lib/tokenize.js';
import { referenceTokens } from '../support/reference-counter.js';
import { hostileBytes, longTokenBytes } from '../support/text.js';

const encoder = new TextEncoder();

/** ASCII lines of words, digits, apostrophes, hyphens and every ASCII separator. */
const asciiLine = fc
  .array(
    fc.oneof(
      fc.constantFrom('a', 'Tis', 'rock', 'B2', '7', 'DON', 'x'.repeat(5000)),
      fc.constantFrom("'", '-', '--', "''", ' ', '\t', '\r', '\v', '\f', '\x1c', '\x1f', '.', '_'),
      fc.constantFrom('\u0000', '!', '"', '/', '@', '[', '`', '{', '~', '\x7f'),
    ),
    { maxLength: 40 },
  )
  .map((parts) => encoder.encode(parts.join('')));

/** A line: the bytes without their line feeds. */
const withoutLineFeeds = (bytes: Uint8Array) => bytes.filter((b) => b !== 0x0a);

describe('the tokens of a line', () => {
  for (const mode of MODES) {
    it(`are the reference's, in order (${mode})`, () => {
      fc.assert(
        fc.property(
          fc.oneof(
            asciiLine,
            hostileBytes.map(withoutLineFeeds),
            longTokenBytes.map(withoutLineFeeds),
          ),
          (line) => {
            const tokens: string[] = [];
            const stats: LineStats = { invalidSequences: 0, longTokens: 0 };
            // Somewhere inside a bigger buffer, as lines are.
            const buf = new Uint8Array([0x41, 0x0a, ...line, 0x0a, 0x42]);
            lineTokens(buf, 2, 2 + line.length, mode, 'auto', tokens, stats);
            const reference = referenceTokens(mode, line, false);
            expect(tokens).toEqual(reference.tokens);
            expect(stats).toEqual({
              invalidSequences: reference.invalidSequences,
              longTokens: reference.longTokens,
            });
          },
        ),
        { numRuns: 300 },
      );
    });
  }
});
