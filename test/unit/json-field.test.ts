/** The JSON Lines field reader against JSON.stringify's strings and Python's rules for lines. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonField } from '../../lib/records/json-field.js';
import type { TextSink } from '../../lib/records/json-strings.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function sink() {
  let bytes = new Uint8Array(16);
  let n = 0;
  const s: TextSink & { text(): Uint8Array } = {
    reserve(m) {
      if (n + m > bytes.length) {
        const grown = new Uint8Array(Math.max(2 * bytes.length, n + m));
        grown.set(bytes.subarray(0, n));
        bytes = grown;
      }
      return { bytes, at: n };
    },
    advance(m) {
      n += m;
    },
    text: () => bytes.slice(0, n),
  };
  return s;
}

function read(line: string | Uint8Array, path = 'text') {
  const bytes = typeof line === 'string' ? encoder.encode(line) : line;
  const out = sink();
  const result = new JsonField(path).read(bytes, 0, bytes.length, out);
  return { result, text: out.text() };
}

/** Python's json.dumps with ensure_ascii: every non-ASCII character as \uXXXX escapes. */
function asciiJson(s: string): string {
  return JSON.stringify(s).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** `s` with each lone surrogate replaced by U+FFFD (String.prototype.toWellFormed). */
const wellFormed = (s: string) =>
  s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

/** Any string, lone surrogates, controls and escapes included. */
const anyString = fc.string({ unit: 'binary', maxLength: 60 });

describe('JsonField', () => {
  it('reads a buffer rewritten in place between lines (a reader reusing its carry)', () => {
    const field = new JsonField('text');
    const buffer = new Uint8Array(64);
    const lines = [
      '{"id": 1, "text": "plain"}',
      '{"text": "a\\"b", "id": 2}',
      '{"text": "c\\\\d"}',
    ];
    const texts = lines.map((line) => {
      buffer.fill(0x20);
      const n = encoder.encodeInto(line, buffer).written;
      const out = sink();
      expect(field.read(buffer, 0, n, out)).toEqual({ kind: 'text' });
      return decoder.decode(out.text());
    });
    expect(texts).toEqual(['plain', 'a"b', 'c\\d']);
  });

  it('finds a dotted path in any objects, after strings with escapes, on lines read one after another', () => {
    const key = fc.constantFrom('a', 'b', 'text', 'meta', 'body', 'x\\y', 'quo"te');
    const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        anyString,
        fc.integer(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 3 }),
        fc.dictionary(key, tie('value'), { maxKeys: 4 }),
      ),
    })).value;
    const path = fc.array(fc.constantFrom('a', 'b', 'text', 'meta', 'body'), {
      minLength: 1,
      maxLength: 3,
    });
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(key, value, { maxKeys: 5 }), { minLength: 1, maxLength: 6 }),
        path,
        (objects, keys) => {
          // The lines of one buffer, read in order, as the JSON Lines reader reads them.
          const lines = objects.map((o) => JSON.stringify(o));
          const bytes = encoder.encode(lines.join('\n'));
          const field = new JsonField(keys.join('.'));
          let at = 0;
          for (const [i, line] of lines.entries()) {
            const end = at + encoder.encode(line).length;
            const out = sink();
            const result = field.read(bytes, at, end, out);
            let expected: unknown = objects[i];
            for (const k of keys) {
              expected =
                expected !== null && typeof expected === 'object' && !Array.isArray(expected)
                  ? (expected as Record<string, unknown>)[k]
                  : undefined;
            }
            if (typeof expected === 'string') {
              expect(result).toEqual({ kind: 'text' });
              expect(decoder.decode(out.text())).toBe(wellFormed(expected));
            } else expect(result.kind).toBe('invalid');
            at = end + 1;
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('decodes any string JSON.stringify writes, raw or ASCII-escaped, to its UTF-8', () => {
    fc.assert(
      fc.property(anyString, fc.boolean(), (s, ascii) => {
        const json = ascii ? asciiJson(s) : JSON.stringify(s);
        const { result, text } = read(`{"id": 1, "text": ${json}, "more": [1, {"a": null}]}`);
        expect(result).toEqual({ kind: 'text' });
        // A lone surrogate is one ill-formed byte: read as U+FFFD.
        expect(decoder.decode(text)).toBe(wellFormed(s));
        const lone = [...s].filter((c) => /^[\ud800-\udfff]$/.test(c)).length;
        expect(text.filter((b) => b === 0xff)).toHaveLength(lone);
      }),
    );
  });

  it('reaches into objects by a dotted path, the last duplicate key winning', () => {
    expect(decoder.decode(read('{"meta": {"body": "deep"}}', 'meta.body').text)).toBe('deep');
    expect(decoder.decode(read('{"text": "first", "text": "last"}').text)).toBe('last');
    expect(read('{"meta": {"body": "a"}, "meta": {}}', 'meta.body').result).toEqual({
      kind: 'invalid',
      reason: "field 'meta.body' is missing",
    });
    expect(decoder.decode(read('{"t\\u0065xt": "escaped key"}').text)).toBe('escaped key');
    expect(decoder.decode(read('\ufeff{"text": "after a BOM"}\r').text)).toBe('after a BOM');
  });

  it('tells blank lines, invalid records and fields that are not strings apart', () => {
    expect(read('  \t\r').result).toEqual({ kind: 'blank' });
    const reasons: [string, RegExp][] = [
      ['{"text": "a"} x', /^not JSON: extra data/],
      ['{"text": "a"', /^not JSON/],
      ['{"text": "a\u0001"}', /^not JSON: a control character/],
      ['{"text": "\\x"}', /^not JSON: a bad escape/],
      ['{"text": "\\u12"}', /^not JSON: a bad \\u escape/],
      ['{"text": 01}', /^not JSON/],
      ['{"n": 1., "text": "a"}', /^not JSON/],
      ['["text"]', /^not a JSON object$/],
      ['"text"', /^not a JSON object$/],
      ['{"other": "a"}', /^field 'text' is missing$/],
      ['{"text": null}', /^field 'text' is not a string$/],
      ['{"text": ["a"]}', /^field 'text' is not a string$/],
    ];
    for (const [line, reason] of reasons) {
      const { result, text } = read(line);
      expect(result.kind, line).toBe('invalid');
      expect(result.kind === 'invalid' && result.reason, line).toMatch(reason);
      expect(text, line).toHaveLength(0);
    }
    expect(
      read(new Uint8Array([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x22, 0x7d])).result,
    ).toEqual({
      kind: 'invalid',
      reason: 'not valid UTF-8',
    });
  });

  it("takes the numbers Python's json takes: NaN, Infinity, exponents", () => {
    for (const value of ['NaN', '-Infinity', 'Infinity', '-0.5e-3', '1E+9', '0', '-12']) {
      expect(read(`{"n": ${value}, "text": "ok"}`).result, value).toEqual({ kind: 'text' });
    }
  });

  it('accepts every line JSON.stringify writes for any JSON value with a string field', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), anyString, (extra, s) => {
        const line = JSON.stringify({ a: extra, text: s, z: extra });
        const { result, text } = read(line);
        expect(result).toEqual({ kind: 'text' });
        expect(decoder.decode(text)).toBe(wellFormed(s));
      }),
    );
  });
});
