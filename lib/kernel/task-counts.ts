/**
 * Everything one task counts, whatever number of ranges and objects feed it: a wasm
 * kernel instance with its two tables (whitespace tokens or ASCII words; and `words`
 * with other characters under their raw bytes), the words the host counted as strings
 * (segmented runs, long words), and the task's statistics. Range counters add into one
 * of these.
 */
import { isUtf8 } from 'node:buffer';
import { markLines } from '../reduce/doc-keys.js';
import {
  interleavePartitions,
  type PartitionedLines,
  partitionLines,
} from '../reduce/partition.js';
import { DEFAULT_SEGMENTER, type SegmenterName } from '../segmenter.js';
import { foldWord } from '../tokenize.js';
import { loadLimit, TokenTable } from './token-table.js';
import { Kernel } from './wasm-kernel.js';

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * A table sized for `bytes` of input: prose has roughly one new word per 300 bytes.
 * With `expectedDistinct` (what other tasks of the job held), room for that many keys,
 * but never more than `bytes` could hold: the table then rarely grows.
 */
export function tableCapacityFor(bytes: number, expectedDistinct = 0): number {
  let capacity = 1 << 10;
  while (capacity < 1 << 14 && capacity * 64 < bytes) capacity *= 2;
  const wanted = Math.min(expectedDistinct, bytes / 2);
  while (loadLimit(capacity) < wanted && capacity < 1 << 24) capacity *= 2;
  return capacity;
}

export class TaskCounts {
  readonly kernel: Kernel;
  /** Whitespace tokens, or `words` of ASCII characters, lower-cased. */
  readonly table: TokenTable;
  /** `words` with other characters, under their bytes: folded when emitted. */
  readonly raw: TokenTable;
  /** Words counted as strings, already folded (segmented runs, long words). */
  readonly words = new Map<string, number>();
  /** Ill-formed UTF-8 sequences starting in the counted ranges. */
  invalidSequences = 0;
  /** Tokens longer than TOKEN_CAP_BYTES, counted under a truncated key. */
  longTokens = 0;
  /** Bytes fed to the counters, look-behind and overrun included. */
  bytesScanned = 0;
  /** Documents counted (with docFreq: records, or text objects). */
  documents = 0;

  constructor(
    expectedBytes = 0,
    expectedDistinct = 0,
    /** How the runs of no-space scripts counted into this table are segmented. */
    readonly segmenter: SegmenterName = DEFAULT_SEGMENTER,
    /**
     * `--doc-freq`: `raw` holds each key's documents (host-text.ts), written as marked
     * lines (reduce/doc-keys.ts), and `table` every key, already folded.
     */
    readonly docFreq = false,
  ) {
    this.kernel = new Kernel(tableCapacityFor(expectedBytes, expectedDistinct));
    this.table = new TokenTable(this.kernel, this.kernel.main);
    this.raw = new TokenTable(this.kernel, this.kernel.raw);
  }

  addWord(word: string): void {
    this.words.set(word, (this.words.get(word) ?? 0) + 1);
  }

  /** Distinct keys held (a word may be held more than once: as bytes and as a folded string). */
  distinct(): number {
    return this.table.distinct() + this.raw.distinct() + this.words.size;
  }

  /** Bytes of wasm memory the tables hold. */
  heldBytes(): number {
    return this.table.heldBytes() + this.raw.heldBytes();
  }

  /** Tokens counted: the sum of every count. */
  tokens(): number {
    let total = this.table.total() + (this.docFreq ? 0 : this.raw.total());
    for (const count of this.words.values()) total += count;
    return total;
  }

  /**
   * Every count as `word\tcount\n` lines of UTF-8 (a word may have more than one
   * line). Keys holding ill-formed UTF-8 (whitespace mode keeps such bytes inside a
   * token) are written as they decode, each bad sequence as U+FFFD, so two tokens that
   * differ only in their invalid bytes are one word, as in a single decoded pass.
   */
  lines(): Uint8Array {
    let bytes: Uint8Array = this.table.lines();
    if (this.docFreq) return concat(bytes, markLines(this.raw.lines()));
    if (!isUtf8(bytes)) bytes = encoder.encode(decoder.decode(bytes));
    const words = this.foldedWords();
    if (words.size === 0) return bytes;
    return concat(bytes, linesOf(words));
  }

  /** The lines of `lines()`, grouped by the partition of their word among `partitions`. */
  partitioned(partitions: number): PartitionedLines {
    // The host's keys are UTF-8 already; a document count goes to its word's partition.
    if (this.docFreq) return partitionLines(this.lines(), partitions);
    let table = this.table.partitionedLines(partitions);
    // Decoding changes keys, and so their partitions: partition the decoded lines again.
    if (!isUtf8(table.bytes))
      table = partitionLines(encoder.encode(decoder.decode(table.bytes)), partitions);
    const words = this.foldedWords();
    if (words.size === 0) return table;
    return interleavePartitions(table, partitionLines(linesOf(words), partitions));
  }

  /**
   * The string-keyed words plus the raw table's, each distinct raw key folded once
   * (upper then lower case, final sigma, NFC): keys that fold together merge here.
   */
  private foldedWords(): Map<string, number> {
    if (this.raw.distinct() === 0) return this.words;
    const words = new Map(this.words);
    // Raw keys are whole words: valid UTF-8 without tabs or newlines.
    const text = decoder.decode(this.raw.lines());
    let at = 0;
    while (at < text.length) {
      const tab = text.indexOf('\t', at);
      const newline = text.indexOf('\n', tab);
      const word = foldWord(text.slice(at, tab));
      words.set(word, (words.get(word) ?? 0) + Number(text.slice(tab + 1, newline)));
      at = newline + 1;
    }
    return words;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const all = new Uint8Array(a.length + b.length);
  all.set(a);
  all.set(b, a.length);
  return all;
}

function linesOf(words: Map<string, number>): Uint8Array {
  const parts: string[] = [];
  for (const [word, count] of words) parts.push(`${word}\t${count}\n`);
  return encoder.encode(parts.join(''));
}

/**
 * Where a task's counters add: its current table, which a spill may swap for a fresh one
 * between pieces (`afterPiece` spills when the table is full; await what it returns).
 */
export interface Feeder {
  counts(): TaskCounts;
  afterPiece(): Promise<void> | undefined;
}
