/**
 * The `whitespace` scanner: Python's `str.split()`. A token is a maximal run of
 * anything but the 29 whitespace code points; ASCII bytes stay in the inner loop,
 * other bytes are decoded on the slow path outside it.
 */
import { isPythonWhitespace, WS_BYTE } from './classes';
import {
  DONE,
  END,
  KEEP,
  LONG,
  noteInvalid,
  SUSPEND,
  stop,
  suspend,
  TOKEN_CAP_BYTES,
  TOKEN_END,
} from './state';
import { firstStop, lowBytes, whitespaceStops } from './swar';
import { addShort, tableAdd } from './table';
import { decodeUnit, NEED_MORE } from './utf8';

/** Counts the tokens of buf[from..n) that start at or after startIdx into `table`. */
export function scanWhitespace(
  table: usize,
  buf: usize,
  from: i32,
  n: i32,
  startIdx: i32,
  endIdx: i32,
  final: bool,
): i32 {
  let i = from;
  while (true) {
    // Separators. A token starting at or after endIdx belongs to the next range.
    while (true) {
      if (i >= endIdx) return stop(DONE, i);
      if (i >= n) return stop(END, i);
      const b = <i32>load<u8>(buf + <usize>i);
      if (b < 0x80) {
        if (load<u8>(WS_BYTE + <usize>b) == 1) {
          i++;
          continue;
        }
        break;
      }
      const u = decodeUnit(buf, i, n, final);
      if (u == NEED_MORE) return stop(KEEP, i);
      if (u > 0 && isPythonWhitespace(u >>> 3)) {
        i += u & 7;
        continue;
      }
      break;
    }
    const s = i;
    // Fast path: a short ASCII token ended by ASCII whitespace, found and keyed by one load.
    const x = load<u64>(buf + <usize>s);
    const stops = whitespaceStops(x);
    if (stops != 0) {
      const e = s + firstStop(stops);
      if (e < n && load<u8>(WS_BYTE + <usize>load<u8>(buf + <usize>e)) == 1) {
        if (s >= startIdx) {
          const key = lowBytes(x, e - s);
          addShort(table, <u32>key, <u32>(key >>> 32), e - s);
        }
        i = e + 1;
        continue;
      }
    }
    let incomplete = false;
    while (true) {
      let c: u8 = 0;
      while (i < n) {
        c = load<u8>(WS_BYTE + <usize>load<u8>(buf + <usize>i));
        if (c != 0) break;
        i++;
      }
      if (i >= n) {
        incomplete = !final;
        break;
      }
      if (c == 1) break;
      const u = decodeUnit(buf, i, n, final);
      if (u == NEED_MORE) {
        incomplete = true;
        break;
      }
      if (u > 0) {
        if (isPythonWhitespace(u >>> 3)) break;
        i += u & 7;
      } else {
        noteInvalid(i, -u - 1, startIdx, endIdx);
        i += -u - 1;
      }
    }
    if (incomplete) return suspend(SUSPEND, s, i);
    if (s < startIdx) continue;
    if (i - s > TOKEN_CAP_BYTES) return suspend(LONG, s, i);
    tableAdd(table, buf, s, i, false);
  }
}

/** Follows a token too long to carry, from `from`; reports where it ends. */
export function followWhitespace(
  buf: usize,
  from: i32,
  n: i32,
  startIdx: i32,
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
    const b = <i32>load<u8>(buf + <usize>i);
    if (b < 0x80) {
      if (load<u8>(WS_BYTE + <usize>b) == 1) break;
      i++;
      continue;
    }
    const u = decodeUnit(buf, i, n, final);
    if (u == NEED_MORE) return stop(KEEP, i);
    if (u > 0) {
      if (isPythonWhitespace(u >>> 3)) break;
      i += u & 7;
    } else {
      noteInvalid(i, -u - 1, startIdx, endIdx);
      i += -u - 1;
    }
  }
  return stop(TOKEN_END, i);
}
