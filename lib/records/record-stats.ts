/**
 * What a task learned about the records it read: how many were counted, skipped (blank
 * lines, WARC records of other types, null values) and invalid, and where the first
 * invalid one is. Invalid records are never silent: the summary carries the first one.
 */

/**
 * Where an invalid record is, within what one reader read: only a JSON Lines line can be
 * one (a Parquet value is a string or a null; a WARC record that does not parse is a
 * corrupt stream).
 */
export interface RecordPosition {
  /** The line's number within what the reader read (1 = its first line). */
  line: number;
  /** The stream offset of the line's first byte (decompressed, for a compressed object). */
  offset: number;
  reason: string;
}

export interface RecordStats {
  records: number;
  skippedRecords: number;
  invalidRecords: number;
  /** JSONL: the lines the reader owned, blank and invalid ones included. */
  lines: number;
  firstInvalid?: RecordPosition;
}

export function emptyRecordStats(): RecordStats {
  return { records: 0, skippedRecords: 0, invalidRecords: 0, lines: 0 };
}

export function recordInvalid(stats: RecordStats, position: RecordPosition): void {
  stats.invalidRecords++;
  stats.firstInvalid ??= position;
}
