/**
 * Telling formats and codecs apart, and the options an upload carries in its metadata.
 * (The readers themselves are checked against Python's in test/integration/formats.test.ts.)
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ManifestSchema } from '../../lib/contracts/requests.js';
import { UsageError } from '../../lib/errors.js';
import { metadataOptions } from '../../lib/job/request/input-options.js';
import { codecOf, decompress } from '../../lib/records/codecs.js';
import { formatByName, resolveFormat } from '../../lib/records/formats.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const PAR1 = bytes('PAR1');

describe('formats', () => {
  it('are told by content first, then by name once .gz or .zst is stripped', () => {
    expect(resolveFormat('auto', 'a.txt', PAR1)).toBe('parquet');
    expect(resolveFormat('auto', 'a.jsonl', bytes('WARC'), bytes('WARC/1.1\r\n'))).toBe('warc');
    for (const name of ['c4.json.gz', '00.jsonl.zst', 'x.NDJSON', 'y.json']) {
      expect(formatByName(name), name).toBe('jsonl');
    }
    for (const name of ['a.txt', 'b.gz', 'json', 'c.jsonl.bz2']) {
      expect(formatByName(name), name).toBeUndefined();
    }
    expect(resolveFormat('auto', 'notes.txt', bytes('hello'), bytes('hello'))).toBe('text');
    // An explicit format is taken as given.
    expect(resolveFormat('text', 'a.jsonl', PAR1)).toBe('text');
  });

  it('have codecs told by magic bytes, zstd skippable frames included', () => {
    expect(codecOf(gzipSync(bytes('x')))).toBe('gzip');
    expect(codecOf(Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0]))).toBe('zstd');
    expect(codecOf(Uint8Array.from([0x5e, 0x2a, 0x4d, 0x18, 0]))).toBe('zstd');
    expect(codecOf(bytes('{"text"'))).toBe('none');
    expect(codecOf(bytes('BZh91AY&SY'))).toBe('bzip2');
    expect(codecOf(bytes('BZh is a word'))).toBe('none');
    expect(() => decompress('bzip2', (async function* () {})(), 'mem://x.bz2')).toThrow(
      /mem:\/\/x\.bz2: a bzip2 stream, which is not read/,
    );
  });

  it('decode gzip members one after another as one stream, and name a corrupt one', async () => {
    const two = Buffer.concat([gzipSync(bytes('one ')), gzipSync(bytes('two'))]);
    const out: Uint8Array[] = [];
    async function* pieces() {
      for (let i = 0; i < two.length; i += 7) yield two.subarray(i, i + 7);
    }
    for await (const p of decompress('gzip', pieces(), 'mem://a.gz')) out.push(p);
    expect(Buffer.concat(out).toString()).toBe('one two');
    async function* broken() {
      yield two.subarray(0, 12);
      yield Buffer.alloc(30, 7);
    }
    await expect(async () => {
      for await (const _ of decompress('gzip', broken(), 'mem://b.gz'));
    }).rejects.toThrow(/mem:\/\/b\.gz: not a valid gzip stream/);
  });
});

describe('options an upload carries', () => {
  it('are read from its metadata', () => {
    expect(
      metadataOptions('s3://b/k', {
        'wordcount-format': 'jsonl',
        'wordcount-field': 'meta.body',
        'wordcount-mode': 'whitespace',
        'wordcount-chunk-size': '64KiB',
        'wordcount-top': '50',
        'wordcount-strict': 'true',
        'content-language': 'en',
      }),
    ).toEqual({
      format: 'jsonl',
      field: 'meta.body',
      mode: 'whitespace',
      chunkSize: '64KiB',
      top: 50,
      strict: true,
    });
    expect(metadataOptions('s3://b/k', { 'wordcount-chunk-size': '65536' })).toEqual({
      chunkSize: 65536,
    });
    expect(metadataOptions('s3://b/k', undefined)).toEqual({});
  });

  it('refuse a bad value, naming the object and the metadata', () => {
    for (const [name, value] of [
      ['wordcount-format', 'xml'],
      ['wordcount-mode', 'letters'],
      ['wordcount-top', 'many'],
      ['wordcount-strict', 'yes'],
      ['wordcount-field', 'meta..body'],
    ]) {
      const call = () => metadataOptions('s3://b/k.jsonl', { [name as string]: value as string });
      expect(call).toThrow(UsageError);
      expect(call).toThrow(`s3://b/k.jsonl: its metadata x-amz-meta-${name}: '${value}'`);
    }
  });

  it("are a manifest's fields too, and an unknown one is refused", () => {
    expect(
      ManifestSchema.parse({
        prefix: 'p/',
        format: 'parquet',
        field: 'text',
        strict: true,
        top: 5,
      }),
    ).toMatchObject({ format: 'parquet', strict: true, top: 5 });
    expect(ManifestSchema.safeParse({ prefix: 'p/', formats: 'jsonl' }).success).toBe(false);
    expect(ManifestSchema.safeParse({ prefix: 'p/', format: 'csv' }).success).toBe(false);
  });
});
