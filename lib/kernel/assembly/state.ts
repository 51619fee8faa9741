/**
 * What a scanner call reports back to the range protocol (lib/kernel/range-counter.ts),
 * which drives every scanner the same way: the event it stopped on, where, and the
 * invalid sequences it saw.
 */

/** Every token owned by the range is counted: stop feeding. */
export const DONE: i32 = 0;
/** The buffer is used up between tokens (or, following a token, inside it). */
export const END: i32 = 1;
/** A character is cut by the end of the buffer: carry the bytes from `pos`. */
export const KEEP: i32 = 2;
/** A token from `token` is cut by the end of the buffer (it ends at or after `pos`). */
export const SUSPEND: i32 = 3;
/** The token [token, pos) is longer than the cap: the protocol counts it. */
export const LONG: i32 = 4;
/** A run of a no-space script starts at `token`: the host segments it. */
export const RUN: i32 = 5;
/** The token being followed ends at `pos`. */
export const TOKEN_END: i32 = 6;

/** Tokens longer than this many bytes are counted by the protocol (lib/kernel/long-tokens.ts). */
export const TOKEN_CAP_BYTES: i32 = 4096;

export let pos: i32 = 0;
export let token: i32 = 0;
/** Invalid sequences at or after `mark` have not been counted yet (carried bytes are rescanned). */
export let mark: i32 = 0;
/** Invalid sequences starting in the range, counted by this call. */
export let invalid: i32 = 0;

export function begin(invalidMark: i32): void {
  mark = invalidMark;
  invalid = 0;
}

export function stop(event: i32, at: i32): i32 {
  pos = at;
  return event;
}

export function suspend(event: i32, start: i32, at: i32): i32 {
  token = start;
  pos = at;
  return event;
}

/** An invalid unit of `len` bytes at `at`, counted once and only inside the range. */
export function noteInvalid(at: i32, len: i32, startIdx: i32, endIdx: i32): void {
  if (at < mark) return;
  mark = at + len;
  if (at >= startIdx && at < endIdx) invalid++;
}
