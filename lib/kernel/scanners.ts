/**
 * The two modes' scanners as the range protocol sees them: each scans a buffer in the
 * kernel's input region (lib/kernel/assembly/whitespace.ts, words.ts), follows a token
 * too long to carry, and keys a long token its own way.
 */
import { foldWord, type Mode } from '../tokenize.js';
import { LONG_TOKEN_SUFFIX, longKey } from './long-tokens.js';
import type { TaskCounts } from './task-counts.js';
import type { Kernel } from './wasm-kernel.js';

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** Where a scanner call looks: buffer [from, n), the range as [startIdx, endIdx) of it. */
export interface ScanWindow {
  from: number;
  n: number;
  startIdx: number;
  endIdx: number;
  final: boolean;
  /** Invalid sequences before this offset were counted already. */
  mark: number;
}

export interface Scanner {
  /** Counts tokens until an event (wasm-kernel.ts: DONE, END, KEEP, SUSPEND, LONG, RUN). */
  scan(kernel: Kernel, w: ScanWindow): number;
  /** Follows a token too long to carry (DONE, END, KEEP, TOKEN_END). */
  follow(kernel: Kernel, w: ScanWindow, owned: boolean): number;
  /** Counts a long token whose capped prefix is `prefix`. */
  countLong(counts: TaskCounts, prefix: Uint8Array): void;
}

const whitespace: Scanner = {
  scan: (k, w) => k.x.whitespace(w.from, w.n, w.startIdx, w.endIdx, +w.final, w.mark),
  follow: (k, w, owned) =>
    k.x.whitespaceFollow(w.from, w.n, w.startIdx, w.endIdx, +w.final, +owned, w.mark),
  countLong: (counts, prefix) => counts.table.addKey(longKey(prefix)),
};

const words: Scanner = {
  scan: (k, w) => k.x.words(w.from, w.n, w.startIdx, w.endIdx, +w.final, w.mark),
  follow: (k, w, owned) => k.x.wordsFollow(w.from, w.n, w.endIdx, +w.final, +owned, w.mark),
  countLong: (counts, prefix) =>
    counts.addWord(foldWord(decoder.decode(prefix)) + LONG_TOKEN_SUFFIX),
};

export const SCANNERS: Record<Mode, Scanner> = { whitespace, words };
