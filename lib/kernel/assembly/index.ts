/**
 * The counting kernel, compiled to WebAssembly (scripts/build-wasm.mjs). One instance
 * holds one task's counts: a main table (whitespace tokens, or ASCII words already
 * lower-cased) and a raw table (`words` with other characters, folded on emission),
 * plus the input region the host copies bytes into. The host side is
 * lib/kernel/wasm-kernel.ts.
 *
 * AssemblyScript: TypeScript syntax with wasm's types (i32, u64, usize) and raw memory
 * access (load, store). asc type-checks it when it compiles; Biome, which cannot parse
 * decorators on functions (`@inline`, `@external`), skips this folder.
 */
import { initClasses } from './classes';
import { begin, invalid, mark, pos, token } from './state';
import { tableNew } from './table';
import { followWhitespace, scanWhitespace } from './whitespace';
import { followWords, scanWords } from './words';

import { tableAdd } from './table';

export {
  tableAdd,
  tableBytes,
  tableDistinct,
  tableLines,
  tableLinesBound,
  tableOverflowed,
  tablePartitionOffsets,
  tablePartitionWrite,
  tableTotal,
} from './table';

let mainTable: usize = 0;
let rawTable: usize = 0;
let input: usize = 0;
let inputCapacity: i32 = 0;

/** Slack after the input: a short key is read as two whole 32-bit words. */
const SLACK: i32 = 16;

/** Sets up an instance whose main table starts with `capacity` slots (a power of two). */
export function init(capacity: u32): void {
  initClasses();
  mainTable = tableNew(capacity);
  rawTable = tableNew(1 << 10);
}

export function main(): usize {
  return mainTable;
}

export function raw(): usize {
  return rawTable;
}

/** The input region, with room for `size` bytes (its address changes when it grows). */
export function inputFor(size: i32): usize {
  if (size > inputCapacity) {
    if (input != 0) heap.free(input);
    inputCapacity = max(size, 1 << 16);
    input = heap.alloc(<usize>(inputCapacity + SLACK));
  }
  return input;
}

export function alloc(size: usize): usize {
  return heap.alloc(size + <usize>SLACK);
}

/**
 * Counts the key buf[s..e) `times` times: what a test needs to reach a slot's 2^31 - 1
 * limit in seconds (the tokens behind it would be gigabytes).
 */
export function tableAddTimes(t: usize, buf: usize, s: i32, e: i32, lower: bool, times: u32): void {
  for (let k: u32 = 0; k < times; k++) tableAdd(t, buf, s, e, lower);
}

export function free(ptr: usize): void {
  heap.free(ptr);
}

export function whitespace(
  from: i32,
  n: i32,
  startIdx: i32,
  endIdx: i32,
  final: bool,
  invalidMark: i32,
): i32 {
  begin(invalidMark);
  return scanWhitespace(mainTable, input, from, n, startIdx, endIdx, final);
}

export function whitespaceFollow(
  from: i32,
  n: i32,
  startIdx: i32,
  endIdx: i32,
  final: bool,
  owned: bool,
  invalidMark: i32,
): i32 {
  begin(invalidMark);
  return followWhitespace(input, from, n, startIdx, endIdx, final, owned);
}

export function words(
  from: i32,
  n: i32,
  startIdx: i32,
  endIdx: i32,
  final: bool,
  invalidMark: i32,
): i32 {
  begin(invalidMark);
  return scanWords(mainTable, rawTable, input, from, n, startIdx, endIdx, final);
}

export function wordsFollow(
  from: i32,
  n: i32,
  endIdx: i32,
  final: bool,
  owned: bool,
  invalidMark: i32,
): i32 {
  begin(invalidMark);
  return followWords(input, from, n, endIdx, final, owned);
}

export function stoppedAt(): i32 {
  return pos;
}

export function tokenStart(): i32 {
  return token;
}

export function invalidMark(): i32 {
  return mark;
}

export function invalidSeen(): i32 {
  return invalid;
}
