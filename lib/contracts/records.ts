/**
 * Records (lib/records/): how a job reads its objects (format, field, strict), and what
 * a map task and a job learned about the records they read.
 */
import { z } from 'zod';
import { FORMAT_OPTIONS, FORMATS } from '../records/formats.js';
import { SEGMENTERS } from '../segmenter.js';
import { MAX_NGRAM } from '../tokenize.js';

const nonNegativeInt = z.number().int().nonnegative();
const positiveInt = z.number().int().positive();

export const FormatSchema = z.enum(FORMATS);
export const FormatOptionSchema = z.enum(FORMAT_OPTIONS);

/** A field path: keys joined by dots, none empty. */
export const FieldSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine((f) => f.split('.').every((k) => k.length > 0), {
    message: 'a field is a name or a dotted path (meta.body), with no empty part',
  });

/** How a job reads its objects; every part has a default (auto, text, not strict). */
export const RecordOptionsSchema = z.object({
  format: FormatOptionSchema.optional(),
  field: FieldSchema.optional(),
  strict: z.boolean().optional(),
  /** words mode: how runs of no-space scripts are segmented (absent: auto). */
  segmenter: z.enum(SEGMENTERS).optional(),
  /** Counts runs of this many consecutive tokens (absent: 1, single tokens). */
  ngram: z.number().int().min(2).max(MAX_NGRAM).optional(),
  /** Counts each word's documents too (a record, or a text object: never split). */
  docFreq: z.boolean().optional(),
});
export type RecordOptions = z.infer<typeof RecordOptionsSchema>;

/** Where the first invalid record (a JSON Lines line) is: the object, its line, and why. */
export const InvalidRecordSchema = z.object({
  uri: z.string(),
  /** JSONL: the line's number in the object (1 = its first). */
  line: positiveInt.optional(),
  /** JSONL: the (decompressed) byte offset of the line's first byte. */
  byte: nonNegativeInt.optional(),
  reason: z.string(),
});
export type InvalidRecord = z.infer<typeof InvalidRecordSchema>;

/** What the records a task or a job read came to. */
export const RecordTotalsSchema = z.object({
  /** Records counted (documents). */
  records: nonNegativeInt,
  /** Blank JSONL lines, WARC records of other types, Parquet nulls. */
  skippedRecords: nonNegativeInt,
  /** Lines that are not JSON objects with a string at the field. */
  invalidRecords: nonNegativeInt,
  /** Bytes of record text counted (what the formats' wrappers held). */
  textBytes: nonNegativeInt,
  firstInvalid: InvalidRecordSchema.optional(),
});
export type RecordTotals = z.infer<typeof RecordTotalsSchema>;

/**
 * A map task that read one range of a JSONL object says how many lines it owned, so the
 * job can number the first invalid record's line across ranges.
 */
export const RangeLinesSchema = z.object({
  uri: z.string(),
  start: nonNegativeInt,
  lines: nonNegativeInt,
});
export type RangeLines = z.infer<typeof RangeLinesSchema>;

export function emptyRecordTotals(): RecordTotals {
  return { records: 0, skippedRecords: 0, invalidRecords: 0, textBytes: 0 };
}

/** Adds `b` to `a`; `a`'s first invalid record stays first. */
export function addRecordTotals(a: RecordTotals, b: RecordTotals): RecordTotals {
  return {
    records: a.records + b.records,
    skippedRecords: a.skippedRecords + b.skippedRecords,
    invalidRecords: a.invalidRecords + b.invalidRecords,
    textBytes: a.textBytes + b.textBytes,
    ...((a.firstInvalid ?? b.firstInvalid) && { firstInvalid: a.firstInvalid ?? b.firstInvalid }),
  };
}
