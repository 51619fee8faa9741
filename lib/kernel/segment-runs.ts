/**
 * Runs of scripts written without spaces (Han, kana, Thai, ...) in `words` mode: the
 * wasm scanner hands each run's first byte back, and the run goes to a segmenter in
 * windows counted from the run's start (or from where the last window's held-back word
 * began), so where the windows fall never depends on how the bytes were split into
 * pieces or ranges. A window is ICU's (SEGMENT_WINDOW_CHARS) or jieba's
 * (JIEBA_WINDOW_CHARS); under `auto` it is jieba's while every character from the
 * window's start is Chinese (lib/segmenter.ts), and ICU's from the first one that is not:
 * a function of the text after the window's start alone, which is what a carry keeps.
 */
import { isChineseChar, JIEBA_WINDOW_CHARS, jiebaRun, type SegmenterName } from '../segmenter.js';
import {
  foldSegment,
  SCRIPT_RUN,
  SEGMENT_WINDOW_CHARS,
  segmentRun,
  wordClass,
} from '../tokenize.js';
import { decodeUnit, NEED_MORE } from '../utf8.js';
import { capPrefix, LONG_TOKEN_SUFFIX, TOKEN_CAP_BYTES } from './long-tokens.js';

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const encoder = new TextEncoder();

export interface RunStep {
  /** Where scanning goes on: the run's end, or where the buffer (or the range) ended. */
  end: number;
  /** 'closed': the run ended; 'open': the buffer ended inside it; 'done': the range ends inside a run it does not own. */
  status: 'closed' | 'open' | 'done';
  /** For 'open': carry the bytes from here into the next piece (-1: nothing to carry). */
  keepFrom: number;
}

export interface RunSink {
  addWord(word: string): void;
  longToken(): void;
}

/**
 * Segments the run of buf[from..n) (from its start, or from where the previous window
 * left off). Owned runs are counted into `sink`; a run the range does not own is only
 * followed, to its end or to endIdx.
 */
export function segmentRunAt(
  buf: Uint8Array,
  from: number,
  n: number,
  final: boolean,
  owned: boolean,
  endIdx: number,
  sink: RunSink,
  segmenter: SegmenterName = 'auto',
): RunStep {
  const fixed = segmenter === 'auto' ? undefined : segmenter;
  let rs = from;
  let chars = 0;
  let i = from;
  let incomplete = false;
  // The window's segmenter: undecided under `auto` while every character is Chinese.
  let kind = fixed;
  // Where SEGMENT_WINDOW_CHARS characters from rs end: an ICU window's end.
  let icuEnd = -1;
  for (;;) {
    if (!owned && i >= endIdx) return { end: i, status: 'done', keepFrom: -1 };
    if (i >= n) {
      incomplete = !final;
      break;
    }
    if ((buf[i] as number) < 0x80) break;
    const u = decodeUnit(buf, i, n, final);
    if (u === NEED_MORE) {
      incomplete = true;
      break;
    }
    if (u < 0 || wordClass(u >>> 3) !== SCRIPT_RUN) break;
    i += u & 7;
    if (!owned) continue;
    if (kind === undefined && !isChineseChar(u >>> 3)) kind = 'icu';
    chars++;
    if (chars === SEGMENT_WINDOW_CHARS) icuEnd = i;
    const full = kind === 'icu' ? chars >= SEGMENT_WINDOW_CHARS : chars === JIEBA_WINDOW_CHARS;
    if (full) {
      const end = kind === 'icu' ? icuEnd : i;
      const rest = countWindow(buf, rs, end, false, kind ?? 'jieba', sink);
      // The next window starts at the held-back word and is decided afresh from there.
      rs = end - Buffer.byteLength(rest);
      i = rs;
      chars = 0;
      kind = fixed;
      icuEnd = -1;
    }
  }
  if (incomplete) {
    const keepFrom = owned ? rs : i < n ? i : -1;
    return { end: i, status: 'open', keepFrom };
  }
  if (owned && i > rs) countWindow(buf, rs, i, true, kind ?? 'jieba', sink);
  return { end: i, status: 'closed', keepFrom: -1 };
}

/** Segments buf[from..to) and counts its words; returns the held-back rest. */
function countWindow(
  buf: Uint8Array,
  from: number,
  to: number,
  complete: boolean,
  kind: 'icu' | 'jieba',
  sink: RunSink,
): string {
  const text = decoder.decode(buf.subarray(from, to));
  const { words, rest } = kind === 'icu' ? segmentRun(text, complete) : jiebaRun(text, complete);
  for (const w of words) countSegment(w, sink);
  return rest;
}

function countSegment(segment: string, sink: RunSink): void {
  // At most 3 UTF-8 bytes per UTF-16 unit: short segments need no encoding to check.
  if (segment.length * 3 > TOKEN_CAP_BYTES && Buffer.byteLength(segment) > TOKEN_CAP_BYTES) {
    sink.longToken();
    sink.addWord(
      foldSegment(decoder.decode(capPrefix(encoder.encode(segment), 0))) + LONG_TOKEN_SUFFIX,
    );
  } else sink.addWord(foldSegment(segment));
}
