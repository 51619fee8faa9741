/** Generated partial counts for the reduce side's property tests. */
import fc from 'fast-check';

/**
 * Words as the kernel emits them: well-formed Unicode without tab or newline. Biased
 * towards the cases the reduce side treats apart: 1-8 byte keys, keys with NUL, keys
 * longer than 8 bytes sharing prefixes, characters around the UTF-16/UTF-8 order split.
 */
export const word = fc
  .oneof(
    fc.string({
      unit: fc.constantFrom('a', 'b', 'é', '\u0000', '\uff5e', '😀', 'z'),
      minLength: 1,
      maxLength: 12,
    }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
    fc.constantFrom('the', 'a', 'abcdefgh', 'abcdefghi', 'abcdefghij', 'ab\u0000', 'ab', '\ufffd'),
  )
  .filter((w) => w.length > 0 && !w.includes('\t') && !w.includes('\n'));

export const count = fc.oneof(
  fc.integer({ min: 1, max: 5 }),
  fc.integer({ min: 1, max: 100_000 }),
  fc.integer({ min: 2 ** 31 - 3, max: 2 ** 31 + 3 }),
);

/** One map output: lines of words with counts (a word may repeat within it). */
export const partial = fc.array(fc.tuple(word, count), { maxLength: 40 });

export function linesOf(entries: readonly (readonly [string, number])[]): Uint8Array {
  return new TextEncoder().encode(entries.map(([w, c]) => `${w}\t${c}\n`).join(''));
}

export function sumOf(
  partials: readonly (readonly (readonly [string, number])[])[],
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of partials) for (const [w, c] of p) counts.set(w, (counts.get(w) ?? 0) + c);
  return counts;
}

export function concat(pieces: Iterable<Uint8Array>): Uint8Array {
  const list = [...pieces];
  const out = new Uint8Array(list.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of list) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
