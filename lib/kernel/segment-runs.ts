/**
 * Runs of scripts written without spaces (Han, kana, Thai, ...) in `words` mode: the
 * wasm scanner hands each run's first byte back, and the run goes to Intl.Segmenter in
 * windows of SEGMENT_WINDOW_CHARS characters counted from the run's start, so where
 * the windows fall never depends on how the bytes were split into pieces or ranges.
 */
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
): RunStep {
  let rs = from;
  let chars = 0;
  let i = from;
  let incomplete = false;
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
    chars++;
    if (owned && chars === SEGMENT_WINDOW_CHARS) {
      const { words, rest } = segmentRun(decoder.decode(buf.subarray(rs, i)), false);
      for (const w of words) countSegment(w, sink);
      rs = i - Buffer.byteLength(rest);
      chars = [...rest].length;
    }
  }
  if (incomplete) {
    const keepFrom = owned ? rs : i < n ? i : -1;
    return { end: i, status: 'open', keepFrom };
  }
  if (owned && i > rs) {
    for (const w of segmentRun(decoder.decode(buf.subarray(rs, i)), true).words) {
      countSegment(w, sink);
    }
  }
  return { end: i, status: 'closed', keepFrom: -1 };
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
