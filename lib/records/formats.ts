/**
 * The formats records come in (Hadoop's InputFormat: how a split becomes records, and
 * which text of each is counted), and how `auto` tells them: by content first (Parquet's
 * PAR1 magic, a WARC record at the start of the decompressed bytes), then by name
 * (`.jsonl`, `.ndjson`, `.json` once `.gz`/`.zst` is stripped), else text.
 */
import { isParquetHead } from './parquet.js';

export const FORMATS = ['text', 'jsonl', 'parquet', 'warc'] as const;
export type Format = (typeof FORMATS)[number];
export const FORMAT_OPTIONS = ['auto', ...FORMATS] as const;
export type FormatOption = (typeof FORMAT_OPTIONS)[number];

/** The field counted when none is given: what C4, Dolma, The Pile and FineWeb call it. */
export const DEFAULT_FIELD = 'text';

const COMPRESSED_SUFFIX = /\.(gz|gzip|zst|zstd)$/i;
const JSONL_SUFFIX = /\.(jsonl|ndjson|json)$/i;

/** What the name says, compressed suffixes stripped: JSON Lines or nothing. */
export function formatByName(key: string): Format | undefined {
  return JSONL_SUFFIX.test(key.replace(COMPRESSED_SUFFIX, '')) ? 'jsonl' : undefined;
}

/** Whether the (decompressed) bytes start with a WARC record's version line. */
export function isWarcHead(head: Uint8Array): boolean {
  const version = 'WARC/1.';
  for (let i = 0; i < version.length; i++) if (head[i] !== version.charCodeAt(i)) return false;
  return true;
}

/**
 * The format of an object: `option` unless it is `auto`, else told by its raw first
 * bytes (Parquet), its decompressed first bytes (WARC) and its name.
 */
export function resolveFormat(
  option: FormatOption,
  key: string,
  rawHead: Uint8Array,
  textHead?: Uint8Array,
): Format {
  if (option !== 'auto') return option;
  if (isParquetHead(rawHead)) return 'parquet';
  if (textHead && isWarcHead(textHead)) return 'warc';
  return formatByName(key) ?? 'text';
}
