/**
 * What the map tasks of a job answer, merged as they come, whichever driver sends them:
 * totals, the spilled outputs, and inline counts in the driver's table, which is written
 * out like a spilled map output (a combiner) once it outgrows `maxInlineDistinct`, so
 * the driver never holds the whole vocabulary. Also how a map task is asked.
 */
import {
  addRecordTotals,
  emptyRecordTotals,
  type RangeLines,
  type RecordOptions,
  type RecordTotals,
} from '../../contracts/records.js';
import type { MapRequest, MapResult, SpilledPart } from '../../contracts/tasks.js';
import { mapSpillPart, mapSpillPrefix } from '../../keys.js';
import type { MapTaskPlan } from '../../plan.js';
import type { ObjectStore } from '../../ports.js';
import { CountTable } from '../../reduce/count-table.js';
import { partitionLines } from '../../reduce/partition.js';
import type { Mode } from '../../tokenize.js';
import { PartsIndex } from '../tasks/parts-index.js';

/** A map task's inline counts (JSON) stay well under Lambda's 6 MB synchronous payload limit. */
export const INLINE_RESULT_LIMIT_BYTES = 4 * 1024 * 1024;

/** Distinct words the driver merges inline before the job goes partitioned. */
export const INLINE_MAX_DISTINCT = 500_000;

const encoder = new TextEncoder();

export function describeTask(sources: ObjectStore, task: MapTaskPlan): string {
  const [first] = task.slices;
  if (!first) return `map task ${task.index}`;
  const uri = sources.uri(first.key);
  if (task.slices.length > 1) return `${uri} and ${task.slices.length - 1} more object(s)`;
  return first.whole ? uri : `${uri} (bytes ${first.start}-${first.end - 1})`;
}

/** The request of map task `task`. */
export function mapRequestFor(options: {
  task: MapTaskPlan;
  mode: Mode;
  records?: RecordOptions;
  bucket?: string;
  workPrefix: string;
  partitions: number;
  inlineLimitBytes: number;
  /** Distinct words per chunk seen so far (MapResults.expectedDistinct). */
  expectedDistinct: number;
  chunkSize: number;
}): MapRequest {
  const { task } = options;
  return {
    type: 'map',
    bucket: options.bucket,
    index: task.index,
    mode: options.mode,
    ...(options.records && Object.keys(options.records).length > 0 && { records: options.records }),
    slices: task.slices,
    expectedDistinct: Math.ceil((options.expectedDistinct * task.bytes) / options.chunkSize),
    spill: {
      prefix: mapSpillPrefix(options.workPrefix, task.index),
      inlineLimitBytes: options.inlineLimitBytes,
      partitions: options.partitions,
    },
  };
}

function concat(pieces: Iterable<Uint8Array>): Uint8Array {
  const list = [...pieces];
  const out = new Uint8Array(list.reduce((sum, p) => sum + p.length, 0));
  let o = 0;
  for (const p of list) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** What a map task counted, besides its counts. */
export type MapTotals = Pick<
  MapResult,
  | 'index'
  | 'records'
  | 'rangeLines'
  | 'tokens'
  | 'invalidSequences'
  | 'longTokens'
  | 'bytesScanned'
  | 'documents'
  | 'uncompressedBytes'
  | 'distinct'
  | 'maxRssBytes'
>;

export interface MapResultsOptions {
  work: ObjectStore;
  workPrefix: string;
  partitions: number;
  chunkSize: number;
  maxInlineDistinct: number;
}

export class MapResults {
  tokens = 0;
  invalidSequences = 0;
  longTokens = 0;
  bytesScanned = 0;
  /** Documents counted under --doc-freq. */
  documents = 0;
  uncompressedBytes = 0;
  maxRssBytes = 0;
  /** Map outputs in the work store (the driver's own spills included), kept there as they come. */
  readonly parts: PartsIndex;
  /** Inline counts merged and not spilled (yet). */
  table = new CountTable();
  /** Distinct words per chunk of text, the most any task saw: sizes later tasks' tables. */
  expectedDistinct = 0;
  private spills = 0;
  /** What the records came to (undefined until a task read a format with records). */
  private recordTotals: RecordTotals | undefined;
  /** The task whose first invalid record is the job's first so far. */
  private firstInvalidTask = Number.POSITIVE_INFINITY;
  /** JSONL ranges read, by object: what numbers a line across ranges. */
  private readonly ranges = new Map<string, RangeLines[]>();

  constructor(private readonly options: MapResultsOptions) {
    this.parts = new PartsIndex(options.work, options.workPrefix, options.partitions);
  }

  /** Merges one task's result; `what` names the task in errors. */
  async add(result: MapResult, what: string): Promise<void> {
    this.addTotals(result);
    await this.addCounts(
      {
        spilled: result.spilled,
        lines: result.entries === undefined ? undefined : encoder.encode(result.entries),
      },
      `inline counts of ${what}`,
    );
  }

  /** Adds what one task counted (its counts come with it, or later: addCounts). */
  addTotals(result: MapTotals): void {
    for (const k of [
      'tokens',
      'invalidSequences',
      'longTokens',
      'bytesScanned',
      'uncompressedBytes',
    ] as const)
      this[k] += result[k];
    this.documents += result.documents ?? 0;
    this.maxRssBytes = Math.max(this.maxRssBytes, result.maxRssBytes);
    this.addRecords(result);
    // Per byte of text (a gzip task's stored bytes would overstate it many times).
    this.expectedDistinct = Math.max(
      this.expectedDistinct,
      Math.ceil((result.distinct / Math.max(1, result.uncompressedBytes)) * this.options.chunkSize),
    );
  }

  private addRecords(result: MapTotals): void {
    const { records, rangeLines } = result;
    if (!records) return;
    const { firstInvalid, ...totals } = records;
    this.recordTotals = addRecordTotals(this.recordTotals ?? emptyRecordTotals(), totals);
    // Tasks answer in any order; the first invalid record is the earliest task's.
    if (firstInvalid && result.index < this.firstInvalidTask) {
      this.firstInvalidTask = result.index;
      this.recordTotals.firstInvalid = firstInvalid;
      this.firstInvalidRange = rangeLines;
    }
    if (rangeLines) {
      const list = this.ranges.get(rangeLines.uri) ?? [];
      list.push(rangeLines);
      this.ranges.set(rangeLines.uri, list);
    }
  }

  private firstInvalidRange: RangeLines | undefined;

  /**
   * What the records came to, the first invalid record's line numbered in its object
   * (a range task numbers its own lines: the lines of the ranges before it are added).
   */
  recordSummary(): RecordTotals | undefined {
    const totals = this.recordTotals;
    const first = totals?.firstInvalid;
    const range = this.firstInvalidRange;
    if (!totals || !first || !range || first.line === undefined) return totals;
    let before = 0;
    for (const r of this.ranges.get(range.uri) ?? []) if (r.start < range.start) before += r.lines;
    return { ...totals, firstInvalid: { ...first, line: first.line + before } };
  }

  /** Merges counts: inline `word\tcount\n` lines, or parts spilled to the work store. */
  async addCounts(
    counts: { lines?: Uint8Array; spilled?: readonly SpilledPart[] },
    what: string,
  ): Promise<void> {
    for (const part of counts.spilled ?? []) await this.parts.add(part);
    if (counts.lines !== undefined && counts.lines.length > 0) {
      this.table.addLines(counts.lines, what);
      if (this.table.size > this.options.maxInlineDistinct) await this.spillInline();
    }
  }

  /** Whether every count is inline: the job needs no reduce tasks. */
  get inline(): boolean {
    return this.parts.count === 0;
  }

  /** Writes the inline table hash-partitioned to the work store and starts an empty one. */
  async spillInline(): Promise<void> {
    if (this.table.size === 0) return;
    const full = this.table;
    this.table = new CountTable();
    const { bytes, offsets } = partitionLines(concat(full.lines()), this.options.partitions);
    const prefix = mapSpillPrefix(this.options.workPrefix, `driver-${this.spills++}`);
    const key = mapSpillPart(prefix, 0);
    await this.options.work.put(key, bytes, { contentType: 'text/tab-separated-values' });
    await this.parts.add({ key, offsets });
  }
}
