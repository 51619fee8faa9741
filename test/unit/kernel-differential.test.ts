/**
 * The wasm kernel against the reference counter (test/support/reference-counter.ts):
 * for generated Unicode, ill-formed bytes and tokens around and past the cap, cut into
 * any ranges and fed in pieces of any size, the kernel's merged counts and statistics
 * are the reference's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MODES } from '../../lib/tokenize.js';
import { fanOut, sortedEntries } from '../support/oracle.js';
import { referenceCounts } from '../support/reference-counter.js';
import { hostileBytes, longTokenBytes, unicodeText } from '../support/text.js';

// Inputs, and the smallest range tried on each (a long-token input is up to ~100 KB).
const inputs = {
  'generated Unicode': [unicodeText, 1],
  'ill-formed bytes': [hostileBytes, 1],
  'long tokens': [longTokenBytes, 257],
} as const;

describe('wasm kernel = reference counter', () => {
  for (const mode of MODES) {
    for (const [name, [arbitrary, minChunk]] of Object.entries(inputs)) {
      it(`${mode}: ${name}, any ranges and pieces`, () => {
        fc.assert(
          fc.property(
            arbitrary,
            fc.integer({ min: minChunk, max: 9000 }),
            fc.integer({ min: 1, max: 9000 }),
            (bytes, chunk, piece) => {
              const reference = referenceCounts(mode, bytes);
              const kernel = fanOut(mode, bytes, chunk, piece);
              expect(sortedEntries(kernel.counts)).toEqual(sortedEntries(reference.counts));
              expect(kernel.tokens).toBe(reference.tokens);
              expect(kernel.invalidSequences).toBe(reference.invalidSequences);
              expect(kernel.longTokens).toBe(reference.longTokens);
            },
          ),
          { numRuns: name === 'long tokens' ? 50 : 300 },
        );
      });
    }
  }

  it('keys that fold together in words mode meet in one count', () => {
    const bytes = new TextEncoder().encode('Élan ÉLAN élan STRASSE Straße ΟΔΟΣ οδος K k');
    const reference = referenceCounts('words', bytes);
    expect(reference.counts.get('élan')).toBe(3);
    expect(reference.counts.get('strasse')).toBe(2);
    expect(reference.counts.get('οδοσ')).toBe(2);
    const kernel = fanOut('words', bytes, 1 << 20);
    expect(sortedEntries(kernel.counts)).toEqual(sortedEntries(reference.counts));
  });
});
