/**
 * Byte-range planning. Ranges are planned from the object's size alone, without
 * reading it; the counters settle tokens that straddle a boundary (see count.ts).
 */
import { UsageError } from './errors.js';

export interface ByteRange {
  index: number;
  /** First byte, inclusive. */
  start: number;
  /** Last byte, exclusive. */
  end: number;
}

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const DEFAULT_CHUNK_SIZE = 16 * MiB;
/** Counts in a range must fit the kernel's 32-bit counters. */
export const MAX_CHUNK_SIZE = 1 * GiB;
/** More ranges than this is a mistake in --chunk-size, not a plan. */
export const MAX_RANGES = 1_000_000;
/** Smallest range the automatic planner makes when it spreads a small file over workers. */
export const MIN_AUTO_CHUNK_SIZE = 256 * KiB;

/** Splits [0, size) into consecutive ranges of `chunkSize` bytes (the last may be shorter). */
export function planRanges(size: number, chunkSize: number): ByteRange[] {
  if (!Number.isSafeInteger(size) || size < 0) throw new UsageError(`invalid object size: ${size}`);
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new UsageError(`chunk size must be between 1 byte and 1GiB, got ${chunkSize}`);
  }
  const count = Math.ceil(size / chunkSize);
  if (count > MAX_RANGES) {
    throw new UsageError(
      `chunk size ${chunkSize} would split ${size} bytes into ${count} ranges (at most ${MAX_RANGES})`,
    );
  }
  const ranges: ByteRange[] = [];
  for (let index = 0; index < count; index++) {
    const start = index * chunkSize;
    ranges.push({ index, start, end: Math.min(size, start + chunkSize) });
  }
  return ranges;
}

/**
 * The chunk size used when the user gives none: DEFAULT_CHUNK_SIZE, or smaller so a
 * file under `workers` x 16 MiB still keeps every worker busy.
 */
export function autoChunkSize(size: number, workers: number): number {
  const even = Math.ceil(size / Math.max(1, workers));
  return Math.min(DEFAULT_CHUNK_SIZE, Math.max(MIN_AUTO_CHUNK_SIZE, even));
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: KiB,
  kb: KiB,
  kib: KiB,
  m: MiB,
  mb: MiB,
  mib: MiB,
  g: GiB,
  gb: GiB,
  gib: GiB,
};

/** Parses "1048576", "64KiB", "16MiB", "1GiB" (units are powers of 1024). */
export function parseSize(text: string): number {
  const match = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? UNITS[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new UsageError(`invalid size '${text}': use bytes or KiB/MiB/GiB, e.g. 16MiB`);
  }
  return Number(match[1]) * unit;
}

/** 16777216 → "16MiB", 2202206 → "2.10MiB"; for messages and the table. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', GiB],
    ['MiB', MiB],
    ['KiB', KiB],
  ] as const) {
    if (bytes >= size)
      return bytes % size === 0 ? `${bytes / size}${unit}` : `${(bytes / size).toFixed(2)}${unit}`;
  }
  return `${bytes}B`;
}
