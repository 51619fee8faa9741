/** Sizes in bytes: units, parsing ("16MiB") and formatting for messages and tables. */
import { UsageError } from './errors.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

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
    // Cut, not rounded: 65535 bytes is 63.99KiB, never the 64.00KiB it falls short of.
    if (bytes >= size)
      return bytes % size === 0
        ? `${bytes / size}${unit}`
        : `${(Math.floor((bytes / size) * 100) / 100).toFixed(2)}${unit}`;
  }
  return `${bytes}B`;
}
