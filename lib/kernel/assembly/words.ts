/**
 * The `words` scanner: letters, marks and numbers, with an apostrophe or hyphen kept
 * only between two of them. ASCII words are lower-cased into the main table on the
 * fast path; words with other characters go to the raw table under their bytes and are
 * folded once per distinct key when the table is emitted (lib/kernel/task-counts.ts);
 * runs of no-space scripts go back to the host's segmenter.
 */
import { JOINER, NOT_ASCII, SCRIPT_RUN, SEP, WORD, WORD_BYTE, wordClass } from './classes';
import {
  DONE,
  END,
  KEEP,
  LONG,
  noteInvalid,
  RUN,
  SUSPEND,
  stop,
  suspend,
  TOKEN_CAP_BYTES,
  TOKEN_END,
} from './state';
import { firstStop, lowBytes, wordStops } from './swar';
import { addShort, tableAdd } from './table';
import { decodeUnit, NEED_MORE } from './utf8';

/** 1 if a WORD character starts at j, 0 if not, NEED_MORE if the buffer ends first. */
function wordFollows(buf: usize, j: i32, n: i32, final: bool): i32 {
  if (j >= n) return final ? 0 : NEED_MORE;
  const b = <i32>load<u8>(buf + <usize>j);
  if (b < 0x80) return load<u8>(WORD_BYTE + <usize>b) == WORD ? 1 : 0;
  const u = decodeUnit(buf, j, n, final);
  if (u == NEED_MORE) return NEED_MORE;
  return u > 0 && wordClass(u >>> 3) == WORD ? 1 : 0;
}

/** Counts the words of buf[from..n) that start at or after startIdx. */
export function scanWords(
  main: usize,
  raw: usize,
  buf: usize,
  from: i32,
  n: i32,
  startIdx: i32,
  endIdx: i32,
  final: bool,
): i32 {
  let i = from;
  while (true) {
    let cls = SEP;
    while (true) {
      if (i >= endIdx) return stop(DONE, i);
      if (i >= n) return stop(END, i);
      const b = <i32>load<u8>(buf + <usize>i);
      if (b < 0x80) {
        if (load<u8>(WORD_BYTE + <usize>b) == WORD) {
          cls = WORD;
          break;
        }
        i++;
        continue;
      }
      const u = decodeUnit(buf, i, n, final);
      if (u == NEED_MORE) return stop(KEEP, i);
      if (u < 0) {
        noteInvalid(i, -u - 1, startIdx, endIdx);
        i += -u - 1;
        continue;
      }
      const c = wordClass(u >>> 3);
      if (c == WORD || c == SCRIPT_RUN) {
        cls = c;
        break;
      }
      i += u & 7;
    }
    const s = i;
    if (cls == SCRIPT_RUN) return suspend(RUN, s, s);
    // Fast path: a short ASCII word ended by an ASCII separator, found and keyed by one load.
    const x = load<u64>(buf + <usize>s);
    const stops = wordStops(x);
    if (stops != 0) {
      const e = s + firstStop(stops);
      if (e < n && <i32>load<u8>(WORD_BYTE + <usize>load<u8>(buf + <usize>e)) == SEP) {
        if (s >= startIdx) {
          const key = lowBytes(x | 0x2020202020202020, e - s);
          addShort(main, <u32>key, <u32>(key >>> 32), e - s);
        }
        i = e + 1;
        continue;
      }
    }
    let ascii = true;
    let incomplete = false;
    while (true) {
      let c = SEP;
      while (i < n) {
        c = <i32>load<u8>(WORD_BYTE + <usize>load<u8>(buf + <usize>i));
        if (c != WORD) break;
        i++;
      }
      if (i >= n) {
        incomplete = !final;
        break;
      }
      let len = 1;
      if (c == NOT_ASCII) {
        const u = decodeUnit(buf, i, n, final);
        if (u == NEED_MORE) {
          incomplete = true;
          break;
        }
        if (u < 0) break;
        c = wordClass(u >>> 3);
        len = u & 7;
        if (c == WORD) {
          ascii = false;
          i += len;
          continue;
        }
      }
      if (c != JOINER) break;
      const follows = wordFollows(buf, i + len, n, final);
      if (follows == NEED_MORE) {
        incomplete = true;
        break;
      }
      if (follows == 0) break;
      if (len > 1) ascii = false;
      i += len;
    }
    if (incomplete) return suspend(SUSPEND, s, i);
    if (s < startIdx) continue;
    if (i - s > TOKEN_CAP_BYTES) return suspend(LONG, s, i);
    if (ascii) tableAdd(main, buf, s, i, true);
    else tableAdd(raw, buf, s, i, false);
  }
}

/** Follows a word too long to carry, from `from`; reports where it ends. */
export function followWords(
  buf: usize,
  from: i32,
  n: i32,
  endIdx: i32,
  final: bool,
  owned: bool,
): i32 {
  let i = from;
  while (true) {
    if (!owned && i >= endIdx) return stop(DONE, i);
    if (i >= n) {
      if (!final) return stop(END, i);
      break;
    }
    const u = decodeUnit(buf, i, n, final);
    if (u == NEED_MORE) return stop(KEEP, i);
    if (u < 0) break;
    const len = u & 7;
    const c = wordClass(u >>> 3);
    if (c == WORD) {
      i += len;
      continue;
    }
    if (c != JOINER) break;
    const follows = wordFollows(buf, i + len, n, final);
    if (follows == NEED_MORE) return stop(KEEP, i);
    if (follows == 0) break;
    i += len;
  }
  return stop(TOKEN_END, i);
}
