/**
 * How the reduce and finalize phases are asked, whichever driver sends the tasks: the
 * P partitions grouped by the bytes the map tasks wrote into reduce requests; the
 * shards' samples cut into finalize requests when the output is big. Pure.
 */
import type { FinalizeRequest, ReduceRequest, ReduceResult, Shard } from '../../contracts/tasks.js';
import { JobFailedError } from '../../errors.js';
import { finalPartKey, shardKey } from '../../keys.js';
import { chooseReduceTasks, groupPartitions } from '../../reduce/partition.js';
import { FINALIZE_MIN_BYTES, planFinalize } from '../tasks/finalize-task.js';
import type { PartsIndex } from '../tasks/parts-index.js';

export interface PhaseOptions {
  partitions: number;
  concurrency: number;
  workPrefix: string;
  bucket?: string;
  top: number;
  /** Words counted fewer times are left out of the counts file and the top (absent: none). */
  minCount?: number;
  /** Words come with their document counts (--doc-freq): a third column. */
  docFreq?: boolean;
  /** Whether a counts file is wanted (else reduce tasks write no shard). */
  counts: boolean;
  /** Names the work store's objects in errors. */
  uri: (key: string) => string;
  /** A finalize task merges at least this much (FINALIZE_MIN_BYTES unless a test says). */
  finalizeMinBytes?: number;
}

/**
 * The reduce requests over the job's index of spilled map outputs (its chunks written:
 * PartsIndex.flush), the partitions grouped by the bytes the map tasks wrote.
 */
export function reduceRequestsFor(options: PhaseOptions, parts: PartsIndex): ReduceRequest[] {
  const total = parts.sizes.reduce((a, b) => a + b, 0);
  const groups = groupPartitions(
    parts.sizes,
    chooseReduceTasks(total, options.partitions, options.concurrency),
  );
  return groups.map(([from, to], index) => ({
    type: 'reduce',
    bucket: options.bucket,
    index,
    partitions: [from, to],
    inputs: [],
    partsIndex: parts.chunks,
    shardKey: options.counts ? shardKey(options.workPrefix, index) : undefined,
    top: options.top,
    ...(options.minCount !== undefined && options.minCount > 1 && { minCount: options.minCount }),
    ...(options.docFreq && { docFreq: true }),
  }));
}

/** The reduce tasks hold exactly the words the map tasks counted, or a partial was lost. */
export function checkReduced(results: readonly ReduceResult[], mapped: number): void {
  const sum = results.reduce((n, r) => n + r.tokens, 0);
  if (sum !== mapped) {
    throw new JobFailedError(
      `the reduce tasks hold ${sum} words but the map tasks counted ${mapped}: a partial was lost`,
    );
  }
}

/** Finalize tasks for `shards`: none (merge here) below twice the least a task merges. */
export function finalizeRequestsFor(
  options: PhaseOptions,
  shards: readonly Shard[],
): FinalizeRequest[] {
  const bytes = shards.reduce((sum, s) => sum + s.bytes, 0);
  const least = options.finalizeMinBytes ?? FINALIZE_MIN_BYTES;
  const tasks = Math.min(options.concurrency, Math.floor(bytes / least));
  if (tasks < 2) return [];
  return planFinalize(shards, tasks).map((plan, index) => ({
    type: 'finalize',
    bucket: options.bucket,
    index,
    shards: plan.shards.filter((w) => w.end > w.start),
    from: plan.from && { count: plan.from.count, word: plan.from.word },
    to: plan.to && { count: plan.to.count, word: plan.to.word },
    partKey: finalPartKey(options.workPrefix, index),
  }));
}
