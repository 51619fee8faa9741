/**
 * Reading a map task's slices as records (lib/records/): a whole object through its
 * codec (told by magic bytes) into the reader of its format (told by the option, the
 * content, the name), a byte range of a JSON Lines object, or row groups of a Parquet
 * file. Each record's text goes to one RecordText, counted into the task's table.
 */
import type { RecordOptions, RecordTotals } from '../../contracts/records.js';
import { CorruptInputError } from '../../errors.js';
import { HostText } from '../../kernel/host-text.js';
import { RangeCounter } from '../../kernel/range-counter.js';
import type { Feeder } from '../../kernel/task-counts.js';
import type { Slice } from '../../plan.js';
import type { ObjectStore } from '../../ports.js';
import { codecOf, decompress, HEAD_BYTES } from '../../records/codecs.js';
import { DEFAULT_FIELD, resolveFormat } from '../../records/formats.js';
import { JsonField } from '../../records/json-field.js';
import { type JsonlOptions, JsonlReader } from '../../records/jsonl.js';
import { countParquet } from '../../records/parquet.js';
import { emptyRecordStats, type RecordStats } from '../../records/record-stats.js';
import { type CountedText, RecordText } from '../../records/record-text.js';
import { WarcReader } from '../../records/warc.js';
import { DEFAULT_SEGMENTER } from '../../segmenter.js';
import type { Mode } from '../../tokenize.js';
import { readRange } from './slice-reader.js';

/** What a slice's records came to (undefined for plain text), and the bytes read. */
export interface SliceRead {
  /** Bytes the readers saw (decompressed). */
  bytes: number;
  records?: RecordTotals;
  /** A JSONL range: the lines it owned. */
  rangeLines?: { uri: string; start: number; lines: number };
}

/** Whether a job's text is counted on the host (n-grams, document frequency): HostText. */
export function countsOnHost(options: RecordOptions = {}): boolean {
  return (options.ngram ?? 1) > 1 || options.docFreq === true;
}

/**
 * The counter of a slice's text: its tokens by the kernel, or on the host its n-grams
 * (a line at a time) and documents. `objectStart`: the text is an object's from its
 * first byte (a BOM is skipped); `wholeDocument`: the text is one document (a text
 * object), not a stream of records.
 */
function textCounter(
  mode: Mode,
  feeder: Feeder,
  options: RecordOptions,
  text: { objectStart?: boolean; wholeDocument?: boolean } = {},
): CountedText {
  if (!countsOnHost(options)) return new RecordText(mode, feeder);
  const counting = { n: options.ngram ?? 1, docFreq: options.docFreq === true };
  return new HostText(mode, counting, feeder, options.segmenter ?? DEFAULT_SEGMENTER, text);
}

/** What a reader's records came to, the first invalid one named by its object. */
function totalsOf(stats: RecordStats, text: CountedText, uri: string): RecordTotals {
  const first = stats.firstInvalid;
  return {
    records: stats.records,
    skippedRecords: stats.skippedRecords,
    invalidRecords: stats.invalidRecords,
    textBytes: text.textBytes,
    ...(first && {
      firstInvalid: { uri, line: first.line, byte: first.offset, reason: first.reason },
    }),
  };
}

/** How a JSON Lines reader of this job reads: its field, its strictness. */
function jsonlOptions(
  options: RecordOptions,
  text: CountedText,
  stats: RecordStats,
  uri: string,
): JsonlOptions & { text: CountedText } {
  return {
    field: new JsonField(options.field ?? DEFAULT_FIELD),
    text,
    stats,
    strict: options.strict ?? false,
    uri,
  };
}

/** Joins an iterator's first pieces until `n` bytes (or its end); the rest follows. */
async function peek(
  pieces: AsyncIterator<Uint8Array>,
  n: number,
): Promise<{ head: Uint8Array; all: AsyncGenerator<Uint8Array> }> {
  let head = new Uint8Array(0);
  let ended = false;
  while (head.length < n) {
    const next = await pieces.next();
    if (next.done) {
      ended = true;
      break;
    }
    const joined = new Uint8Array(head.length + next.value.length);
    joined.set(head);
    joined.set(next.value, head.length);
    head = joined;
  }
  const all = async function* () {
    try {
      if (head.length > 0) yield head;
      if (ended) return;
      for (;;) {
        const next = await pieces.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      // Left early (a failure, a strict record): the source closes too (gunzip's stream).
      await pieces.return?.();
    }
  };
  return { head, all: all() };
}

/**
 * Counts a whole object: decompressed when its first bytes say gzip or zstd, then read
 * as its format (the option, or told by content and name).
 */
export async function countWhole(
  store: ObjectStore,
  slice: Slice,
  mode: Mode,
  feeder: Feeder,
  options: RecordOptions = {},
): Promise<SliceRead> {
  const uri = store.uri(slice.key);
  const option = options.format ?? 'auto';
  const pieces = store
    .readRange(slice.key, { start: 0, ifMatch: slice.etag })
    [Symbol.asyncIterator]();
  let text: Awaited<ReturnType<typeof peek>> | undefined;
  try {
    const raw = await peek(pieces, HEAD_BYTES);
    const codec = codecOf(raw.head);
    if (codec === 'none' && resolveFormat(option, slice.key, raw.head) === 'parquet') {
      await pieces.return?.();
      return await countRowGroups(store, { ...slice, size: slice.end }, mode, feeder, options);
    }
    if (option === 'parquet') {
      throw new CorruptInputError(`${uri}: a ${codec} stream, not a Parquet file`);
    }
    text = await peek(decompress(codec, raw.all, uri)[Symbol.asyncIterator](), HEAD_BYTES);
    const format = resolveFormat(option, slice.key, raw.head, text.head);
    const all = text.all;
    let bytes = 0;
    const counted = async function* () {
      for await (const piece of all) {
        bytes += piece.length;
        yield piece;
      }
    };
    if (format === 'text') {
      if (countsOnHost(options)) {
        const lines = textCounter(mode, feeder, options, {
          objectStart: true,
          wholeDocument: true,
        });
        for await (const piece of counted()) await lines.append(piece);
        await lines.finish();
      } else await countText(counted(), mode, feeder);
      return { bytes };
    }
    const sink = textCounter(mode, feeder, options);
    const stats = emptyRecordStats();
    const reader =
      format === 'warc'
        ? new WarcReader(sink, stats, uri)
        : new JsonlReader(jsonlOptions(options, sink, stats, uri));
    for await (const piece of counted()) await reader.push(piece);
    await reader.end();
    await sink.finish();
    return { bytes, records: totalsOf(stats, sink, uri) };
  } finally {
    // A failure (a corrupt stream, a spill that could not be written, a strict record)
    // leaves the decompression and the read open: closed here, the stream first.
    await text?.all.return(undefined);
    await pieces.return?.();
  }
}

/** Counts every token of a text stream (the whole object is the range). */
async function countText(
  pieces: AsyncIterable<Uint8Array>,
  mode: Mode,
  feeder: Feeder,
): Promise<void> {
  const counter = new RangeCounter(mode, 0, Number.MAX_SAFE_INTEGER, feeder.counts());
  for await (const piece of pieces) {
    counter.retarget(feeder.counts());
    counter.feed(piece);
    await feeder.afterPiece();
  }
  counter.retarget(feeder.counts());
  counter.endInput();
}

/**
 * Counts the lines of a JSON Lines object that start in [start, end): read from the
 * byte before the range, and past its end (in bounded pieces) until the last owned
 * line ends.
 */
export async function countJsonlRange(
  store: ObjectStore,
  slice: Slice,
  mode: Mode,
  feeder: Feeder,
  options: RecordOptions = {},
): Promise<SliceRead> {
  const uri = store.uri(slice.key);
  const sink = textCounter(mode, feeder, options);
  const stats = emptyRecordStats();
  await readOwnedLines(store, slice, jsonlOptions(options, sink, stats, uri));
  return {
    bytes: slice.end - slice.start,
    records: totalsOf(stats, sink, uri),
    rangeLines: { uri, start: slice.start, lines: stats.lines },
  };
}

/** Counts the field's strings in row groups [from, to) of a Parquet file (all when absent). */
export async function countRowGroups(
  store: ObjectStore,
  slice: Slice,
  mode: Mode,
  feeder: Feeder,
  options: RecordOptions = {},
): Promise<SliceRead> {
  const uri = store.uri(slice.key);
  const sink = textCounter(mode, feeder, options);
  const stats = emptyRecordStats();
  const o = { key: slice.key, etag: slice.etag, size: slice.size ?? slice.end, uri };
  await countParquet(store, o, options.field ?? DEFAULT_FIELD, slice.rowGroups, sink, stats);
  await sink.finish();
  return { bytes: sink.textBytes, records: totalsOf(stats, sink, uri) };
}

/** A line of text as it is: what a text range's lines are read as for n-grams. */
const WHOLE_LINE: JsonlOptions['field'] = {
  read(bytes, start, end, out) {
    const room = out.reserve(end - start);
    room.bytes.set(bytes.subarray(start, end), room.at);
    out.advance(end - start);
    return { kind: 'text' };
  },
};

/**
 * Counts the n-grams of the lines of a text object that start in [start, end): a line
 * is a sentence, so a range owns whole lines, as a JSON Lines range does. (Under
 * --doc-freq a text object is one document, never split.)
 */
export async function countTextLines(
  store: ObjectStore,
  slice: Slice,
  mode: Mode,
  feeder: Feeder,
  options: RecordOptions,
): Promise<SliceRead> {
  const uri = store.uri(slice.key);
  if (options.docFreq) {
    // A document is read whole by one task: the planner does not split text under --doc-freq.
    throw new Error(`${uri}: a text range under --doc-freq (a document split across tasks)`);
  }
  const sink = textCounter(mode, feeder, options, { objectStart: slice.start === 0 });
  const stats = emptyRecordStats();
  await readOwnedLines(store, slice, { field: WHOLE_LINE, text: sink, stats, strict: false, uri });
  return { bytes: slice.end - slice.start };
}

/**
 * Reads the lines of `slice` whose first byte it holds into `options.text` (which it
 * finishes): from the byte before the range, and past its end (in bounded pieces) until
 * the last owned line ends.
 */
async function readOwnedLines(
  store: ObjectStore,
  slice: Slice,
  options: JsonlOptions & { text: CountedText },
): Promise<void> {
  const from = Math.max(0, slice.start - 1);
  const reader = new JsonlReader(options, { from, start: slice.start, end: slice.end });
  await readRange(
    store,
    slice,
    from,
    (piece) => reader.push(piece),
    () => reader.done,
  );
  await reader.end();
  await options.text.finish();
}
