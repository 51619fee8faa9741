/**
 * What the HTML report plots, gathered in one pass over the counts in output order
 * (count descending): the top words, the rank/frequency curve at log-spaced ranks, the
 * share of the text covered up to each of those ranks, and the exact ranks at which the
 * most frequent words make up half and nine tenths of the text. Memory is constant
 * whatever the vocabulary: a counts file may hold tens of millions of lines.
 */
import { WordcountError } from '../errors.js';
import type { WordCount } from '../reduce/order.js';

/** Bars of the top-words chart. */
export const REPORT_TOP = 30;
/** Sampled ranks per decade past rank 10 (every rank up to 10 is kept). */
export const SAMPLES_PER_DECADE = 20;
/** The shares of the text whose ranks the report marks. */
export const COVERAGE_SHARES = [0.5, 0.9] as const;

/** A point of the rank/frequency curve: the word at `rank` was seen `count` times. */
export interface RankSample {
  rank: number;
  count: number;
  /** Words of the text counted by ranks 1..rank. */
  cumulative: number;
}

/** Zipf's law fitted as f(r) = C / r^exponent. */
export interface ZipfFit {
  exponent: number;
  /** C: the fitted count at rank 1. */
  constant: number;
  /** Coefficient of determination of the fit in log-log space. */
  r2: number;
  /** The samples fitted. */
  points: number;
  /** The fitted range of ranks. */
  fromRank: number;
  toRank: number;
}

/** Everything the page needs, as plain JSON-able values. */
export interface ReportData {
  totalWords: number;
  distinctWords: number;
  top: WordCount[];
  /** Every rank 1..10, then SAMPLES_PER_DECADE per decade, and the last rank. */
  samples: RankSample[];
  /** For each share of COVERAGE_SHARES, the fewest distinct words that make it up. */
  coverage: { share: number; rank: number }[];
  zipf: ZipfFit | undefined;
  /** Present when the counts hold only the words counted at least this many times. */
  minCount?: number;
}

/** Counts pruned by the job: only the `words` counted at least `minCount` times are there. */
export interface KeptCounts {
  minCount: number;
  words: number;
}

const STEP = 10 ** (1 / SAMPLES_PER_DECADE);

/** The sampled rank after `rank`: every rank up to 10, then a log-spaced one. */
export function nextSampleRank(rank: number): number {
  return rank < 10 ? rank + 1 : Math.max(rank + 1, Math.round(rank * STEP));
}

/**
 * Least squares of log f on log r over `samples`, the words seen once left out: their
 * plateau at the end of the curve is the floor of counting, not the law. Undefined when
 * fewer than two distinct ranks remain.
 */
export function fitZipf(samples: readonly RankSample[]): ZipfFit | undefined {
  const kept = samples.filter((s) => s.count > 1);
  const n = kept.length;
  if (n < 2) return undefined;
  let sx = 0;
  let sy = 0;
  for (const s of kept) {
    sx += Math.log10(s.rank);
    sy += Math.log10(s.count);
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const s of kept) {
    const dx = Math.log10(s.rank) - mx;
    const dy = Math.log10(s.count) - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  const slope = sxy / sxx;
  return {
    exponent: -slope,
    constant: 10 ** (my - slope * mx),
    // A flat curve (every count equal) is fitted exactly by slope 0.
    r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy),
    points: n,
    fromRank: (kept[0] as RankSample).rank,
    toRank: (kept[n - 1] as RankSample).rank,
  };
}

/**
 * Gathers a ReportData from counts added in output order; `totalWords` is their sum, or
 * with `kept`, the text's total of which they are the `kept.words` most frequent.
 */
export class ReportAccumulator {
  private rank = 0;
  private cumulative = 0;
  private previous = Number.POSITIVE_INFINITY;
  private nextSample = 1;
  private readonly top: WordCount[] = [];
  private readonly samples: RankSample[] = [];
  private readonly coverage: { share: number; rank: number }[] = [];
  private last: RankSample | undefined;

  constructor(
    readonly totalWords: number,
    readonly topSize = REPORT_TOP,
    readonly kept?: KeptCounts,
  ) {
    if (!Number.isSafeInteger(totalWords) || totalWords < 0) {
      throw new RangeError(`totalWords must be a whole number, not ${totalWords}`);
    }
  }

  /** True while the next word added is one of the top: only then is its text kept. */
  get wantsWord(): boolean {
    return this.rank < this.topSize;
  }

  add(word: string, count: number): void {
    if (!Number.isSafeInteger(count) || count < 1 || count > this.previous) {
      throw new WordcountError(
        `count ${count} at rank ${this.rank + 1}: counts must be whole, positive and descending`,
      );
    }
    if (this.kept && count < this.kept.minCount) {
      throw new WordcountError(
        `count ${count} at rank ${this.rank + 1}: below the job's minimum count of ${this.kept.minCount}`,
      );
    }
    this.previous = count;
    this.rank += 1;
    this.cumulative += count;
    if (this.cumulative > this.totalWords) {
      throw new WordcountError(
        `the counts add up to more than the ${this.totalWords} words of the text`,
      );
    }
    if (this.rank <= this.topSize) this.top.push({ word, count });
    const sample = { rank: this.rank, count, cumulative: this.cumulative };
    if (this.rank === this.nextSample) {
      this.samples.push(sample);
      this.nextSample = nextSampleRank(this.rank);
    }
    this.last = sample;
    // Reached when cumulative / total >= share, compared in integers (tenths are exact).
    for (let i = this.coverage.length; i < COVERAGE_SHARES.length; i++) {
      const share = COVERAGE_SHARES[i] as number;
      if (this.cumulative * 10 < this.totalWords * Math.round(share * 10)) break;
      this.coverage.push({ share, rank: this.rank });
    }
  }

  finish(): ReportData {
    if (this.kept && this.rank !== this.kept.words) {
      throw new WordcountError(
        `${this.rank} words counted at least ${this.kept.minCount} times, not the job's ${this.kept.words}`,
      );
    }
    if (!this.kept && this.cumulative !== this.totalWords) {
      throw new WordcountError(
        `the counts add up to ${this.cumulative} words, not the ${this.totalWords} of the text`,
      );
    }
    const samples = [...this.samples];
    if (this.last && samples.at(-1)?.rank !== this.last.rank) samples.push(this.last);
    return {
      totalWords: this.totalWords,
      distinctWords: this.rank,
      top: [...this.top],
      samples,
      coverage: [...this.coverage],
      zipf: fitZipf(samples),
      ...(this.kept && { minCount: this.kept.minCount }),
    };
  }
}
