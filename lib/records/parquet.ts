/**
 * Parquet: the string column named by the field (a dotted path for a nested column),
 * every row group asked for, every page codec hyparquet reads (snappy, gzip, zstd,
 * brotli, lz4), dictionary and plain encodings, nulls skipped. Only the footer and the
 * column's chunks are read, with ranged reads of the object as it was planned (If-Match
 * on its ETag), so a task of a few row groups of a 5 GB file reads a few row groups.
 *
 * Memory is bounded by a page, not by a row group: a column chunk is read in blocks of
 * READ_BLOCK_BYTES and decoded one page at a time (the page readers of hyparquet,
 * pinned to the version whose internals this uses), so a 4 GB row group costs a block,
 * a page and its values. A footer, page or codec that does not decode fails the task
 * naming the object (CorruptInputError).
 */
import { parquetMetadata, parquetSchema } from 'hyparquet';
import { parquetHeader, readPage } from 'hyparquet/src/column.js';
import { convert, DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { getTreePath } from 'hyparquet/src/schema.js';
import type {
  ColumnDecoder,
  ColumnMetaData,
  DecodedArray,
  FileMetaData,
} from 'hyparquet/src/types.js';
import { compressors } from 'hyparquet-compressors';
import { CorruptInputError, UsageError } from '../errors.js';
import type { ObjectStore } from '../ports.js';
import { readAhead } from '../read-ahead.js';
import type { RecordStats } from './record-stats.js';
import type { CountedText } from './record-text.js';

/** "PAR1", at both ends of a Parquet file. */
export const PARQUET_MAGIC = [0x50, 0x41, 0x52, 0x31] as const;
/** Bytes of a column chunk read at once. */
const READ_BLOCK_BYTES = 4 * 1024 * 1024;
/** Enough for any page header (statistics included). */
const PAGE_HEADER_BYTES = 64 * 1024;
/** Footers bigger than this are not read. */
const MAX_FOOTER_BYTES = 64 * 1024 * 1024;

export function isParquetHead(head: Uint8Array): boolean {
  return PARQUET_MAGIC.every((b, i) => head[i] === b);
}

/** Where an object is and which version of it to read. */
export interface ParquetObject {
  key: string;
  etag: string;
  size: number;
  uri: string;
}

/** A row group as planning sees it: its rows, and where its column chunk of the field is. */
export interface RowGroupSpan {
  rows: number;
  /** The field's column chunk: [start, end) of the object. */
  start: number;
  end: number;
  /** Its metadata (codec, type, path): what its pages are decoded with. */
  column: ColumnMetaData;
}

async function readBytes(store: ObjectStore, o: ParquetObject, start: number, end: number) {
  const out = new Uint8Array(end - start);
  let at = 0;
  for await (const piece of store.readRange(o.key, { start, end, ifMatch: o.etag })) {
    out.set(piece.subarray(0, out.length - at), at);
    at += piece.length;
    if (at >= out.length) break;
  }
  if (at < out.length)
    throw new CorruptInputError(`${o.uri}: ended at byte ${start + at}, before ${end}`);
  return out;
}

const corrupt = (o: ParquetObject, why: string, cause?: unknown) =>
  new CorruptInputError(
    `${o.uri}: not a valid Parquet file: ${why}`,
    cause ? { cause } : undefined,
  );

/** The file's metadata, from its footer (two ranged reads). */
export async function readFooter(store: ObjectStore, o: ParquetObject): Promise<FileMetaData> {
  if (o.size < 12) throw corrupt(o, `${o.size} bytes is too short`);
  const tail = await readBytes(store, o, o.size - 8, o.size);
  if (!isParquetHead(tail.subarray(4))) throw corrupt(o, 'no PAR1 at its end');
  const length = new DataView(tail.buffer, tail.byteOffset).getUint32(0, true);
  if (length > MAX_FOOTER_BYTES || length + 12 > o.size)
    throw corrupt(o, `a footer of ${length} bytes`);
  const footer = await readBytes(store, o, o.size - 8 - length, o.size);
  try {
    return parquetMetadata(
      footer.buffer.slice(footer.byteOffset, footer.byteOffset + footer.byteLength),
    );
  } catch (error) {
    throw corrupt(o, `its footer does not decode (${(error as Error).message})`, error);
  }
}

/** The field's column in every row group; a field that is not a string column is refused. */
export function fieldColumn(
  metadata: FileMetaData,
  field: string,
  o: ParquetObject,
): RowGroupSpan[] {
  checkStringColumn(metadata, field, o);
  return metadata.row_groups.map((group, i) => {
    const chunk = group.columns.find((c) => c.meta_data?.path_in_schema.join('.') === field);
    const meta = chunk?.meta_data;
    if (!meta) {
      const names = group.columns.map((c) => c.meta_data?.path_in_schema.join('.')).join(', ');
      throw new UsageError(`${o.uri}: no column '${field}' (its columns: ${names})`);
    }
    if (meta.type !== 'BYTE_ARRAY') {
      throw new UsageError(`${o.uri}: column '${field}' holds ${meta.type}, not strings`);
    }
    // Arrow's rule: parquet-mr writes a dictionary offset of 0 for a chunk without one.
    const data = Number(meta.data_page_offset);
    const dictionary = Number(meta.dictionary_page_offset ?? 0);
    const start = dictionary > 0 && dictionary < data ? dictionary : data;
    const end = start + Number(meta.total_compressed_size);
    if (!(start >= 4 && end <= o.size - 8 && end > start)) {
      throw corrupt(o, `row group ${i}'s column chunk lies at bytes ${start}-${end}`);
    }
    return { rows: Number(group.num_rows), start, end, column: meta };
  });
}

/** Annotations of a byte-array column that hold text. */
const TEXT_TYPES = new Set([undefined, 'STRING', 'UTF8', 'JSON', 'ENUM']);

/**
 * Refuses a field that is not one string per row: a list (a repeated field on the path)
 * or a byte array that holds something else (a decimal, a UUID, BSON, a geometry).
 */
function checkStringColumn(metadata: FileMetaData, field: string, o: ParquetObject): void {
  let elements: ColumnDecoder['element'][];
  try {
    elements = getTreePath(parquetSchema(metadata), field.split('.')).map((node) => node.element);
  } catch {
    return; // no such column: fieldColumn names it
  }
  const repeated = elements.slice(1).some((e) => e.repetition_type === 'REPEATED');
  if (repeated) {
    throw new UsageError(
      `${o.uri}: column '${field}' is a list (repeated), not one string per row`,
    );
  }
  const leaf = elements[elements.length - 1];
  const annotation = leaf?.logical_type?.type ?? leaf?.converted_type;
  if (!TEXT_TYPES.has(annotation)) {
    throw new UsageError(`${o.uri}: column '${field}' holds ${annotation} values, not strings`);
  }
}

/** Strings as their bytes: invalid UTF-8 is counted as the kernel counts it in text. */
const PARSERS = { ...DEFAULT_PARSERS, stringFromBytes: (bytes: Uint8Array) => bytes };

/**
 * Counts the field's strings of row groups [from, to) into `text`: each string a
 * record, each null a skipped record.
 */
export async function countParquet(
  store: ObjectStore,
  o: ParquetObject,
  field: string,
  rowGroups: [number, number] | undefined,
  text: CountedText,
  stats: RecordStats,
): Promise<void> {
  const metadata = await readFooter(store, o);
  const spans = fieldColumn(metadata, field, o);
  const [from, to] = rowGroups ?? [0, spans.length];
  if (to > spans.length) throw corrupt(o, `it has ${spans.length} row groups, not ${to}`);
  const schema = parquetSchema(metadata);
  for (let group = from; group < to; group++) {
    const span = spans[group] as RowGroupSpan;
    const chunk = span.column;
    const schemaPath = getTreePath(schema, chunk.path_in_schema);
    const decoder: ColumnDecoder = {
      pathInSchema: chunk.path_in_schema,
      type: chunk.type,
      // Without its annotation a text column's values stay bytes (JSON is counted as text).
      element: {
        ...(schemaPath[schemaPath.length - 1] as { element: ColumnDecoder['element'] }).element,
        logical_type: undefined,
        converted_type: undefined,
      },
      schemaPath,
      codec: chunk.codec,
      parsers: PARSERS,
      compressors,
      utf8: false,
    };
    try {
      for await (const values of pages(store, o, span, decoder)) {
        const list = values as ArrayLike<Uint8Array | null | undefined>;
        for (let i = 0; i < list.length; i++) {
          const value = list[i];
          if (value === null || value === undefined) {
            stats.skippedRecords++;
            continue;
          }
          if (!(value instanceof Uint8Array)) {
            throw corrupt(o, `row group ${group} holds a value that is not a string`);
          }
          stats.records++;
          await text.append(value);
          await text.endRecord();
        }
      }
    } catch (error) {
      if (error instanceof CorruptInputError) throw error;
      throw corrupt(o, `row group ${group} does not decode (${(error as Error).message})`, error);
    }
  }
}

/** The decoded values of each data page of one column chunk, read in blocks. */
async function* pages(
  store: ObjectStore,
  o: ParquetObject,
  span: RowGroupSpan,
  decoder: ColumnDecoder,
): AsyncGenerator<DecodedArray> {
  const read = (start: number, end: number) => readBytes(store, o, start, end);
  const source = readAhead(read, span.start, span.end, READ_BLOCK_BYTES);
  let buffer = new Uint8Array(0);
  /** The object offset of buffer[0]. */
  let bufferStart = span.start;
  let pos = span.start;
  // Makes [pos, pos + n) of the chunk available in `buffer` (n never past the chunk's end).
  const ensure = async (n: number) => {
    while (bufferStart + buffer.length < pos + n) {
      const next = await source.next();
      if (next.done) throw new Error(`the column chunk ends before byte ${pos + n}`);
      const keep = buffer.subarray(pos - bufferStart);
      const joined = new Uint8Array(keep.length + next.value.length);
      joined.set(keep);
      joined.set(next.value, keep.length);
      buffer = joined;
      bufferStart = pos;
    }
  };
  let dictionary: DecodedArray | undefined;
  try {
    while (pos < span.end) {
      await ensure(Math.min(PAGE_HEADER_BYTES, span.end - pos));
      const probe = {
        view: new DataView(buffer.buffer, buffer.byteOffset + (pos - bufferStart)),
        offset: 0,
      };
      const header = parquetHeader(probe);
      const total = probe.offset + header.compressed_page_size;
      if (pos + total > span.end)
        throw new Error(`a page runs past its column chunk (at byte ${pos})`);
      await ensure(total);
      const reader = {
        view: new DataView(buffer.buffer, buffer.byteOffset + (pos - bufferStart), total),
        offset: 0,
      };
      parquetHeader(reader);
      const encoding = (header.data_page_header ?? header.data_page_header_v2)?.encoding;
      if (!dictionary && (encoding === 'PLAIN_DICTIONARY' || encoding === 'RLE_DICTIONARY')) {
        // A writer that left out the dictionary page's offset: its values are indices.
        throw new Error(`a dictionary-encoded page at byte ${pos} without its dictionary page`);
      }
      const page = readPage(reader, header, decoder, dictionary, undefined, 0);
      pos += total;
      if (header.type === 'DICTIONARY_PAGE') {
        if (page.data) dictionary = convert(page.data, decoder);
      } else if (page.data) yield page.data;
    }
  } finally {
    await source.return(undefined);
  }
}
