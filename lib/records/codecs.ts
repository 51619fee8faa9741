/**
 * Compressed objects, told by their magic bytes whatever their names: gzip (members
 * concatenated are one stream) and zstd (frames concatenated, skippable frames too).
 * zstd is decoded by fzstd, a pure-JS decoder, on every backend, each frame checked
 * (zstd.ts): Node 20 has no zstd in zlib, and Node 22's (Lambda's runtime) drops every
 * frame after the first of a multi-frame stream (nodejs/node#64741), which is how The
 * Pile and OSCAR are written.
 * A stream that does not decode fails naming the object (CorruptInputError).
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CorruptInputError, UsageError } from '../errors.js';
import { unzstd } from './zstd.js';

export type Codec = 'gzip' | 'zstd' | 'bzip2' | 'none';

/** Bytes enough to tell a codec (and then a format) by. */
export const HEAD_BYTES = 8;

/** The codec of an object whose first bytes are `head`. */
export function codecOf(head: Uint8Array): Codec {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  // "BZh" and a block size digit: told, so it is refused rather than counted as bytes.
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68 && (head[3] ?? 0) >= 0x31) {
    if ((head[3] ?? 0) <= 0x39) return 'bzip2';
  }
  // A zstd frame (28 B5 2F FD), or a skippable frame (5? 2A 4D 18) that leads one.
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if ((head[0] ?? 0) >> 4 === 0x5 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18) {
    return 'zstd';
  }
  return 'none';
}

/** The decompressed bytes of `pieces` (the object's, from its first byte). */
export function decompress(
  codec: Codec,
  pieces: AsyncIterable<Uint8Array>,
  uri: string,
): AsyncIterable<Uint8Array> {
  if (codec === 'gzip') return gunzip(pieces, uri);
  if (codec === 'zstd') return unzstd(pieces, uri);
  if (codec === 'bzip2') {
    throw new UsageError(
      `${uri}: a bzip2 stream, which is not read: decompress it, or recompress it with gzip or zstd`,
    );
  }
  return pieces;
}

async function* gunzip(pieces: AsyncIterable<Uint8Array>, uri: string): AsyncGenerator<Uint8Array> {
  const stream = Readable.from(pieces).pipe(createGunzip({ chunkSize: 256 * 1024 }));
  try {
    for await (const chunk of stream) yield chunk as Uint8Array;
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (!code.startsWith('Z_')) throw error;
    throw new CorruptInputError(`${uri}: not a valid gzip stream (${(error as Error).message})`, {
      cause: error,
    });
  } finally {
    stream.destroy();
  }
}
