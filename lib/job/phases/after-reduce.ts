/**
 * The step after the reduce phase, written once for both drivers: the reduce tasks'
 * totals (checked against what the map tasks counted), and the counts file from their
 * sorted shards: merged here when it is small, else the finalize phase is planned; after
 * that phase, its parts concatenated in order.
 */
import type { FinalizeRequest, FinalizeResult, ReduceResult } from '../../contracts/tasks.js';
import { JobFailedError, messageOf } from '../../errors.js';
import type { ObjectStore } from '../../ports.js';
import { mergeTop, type WordCount } from '../../reduce/order.js';
import { type CountsTarget, concatenateParts, mergeIntoTarget } from '../tasks/finalize-task.js';
import { checkReduced, finalizeRequestsFor, type PhaseOptions } from './reduce-plan.js';

/** What the reduce tasks counted together. */
export interface Reduced {
  distinct: number;
  /** Of them, those counted at least the job's minCount times (the counts file's lines). */
  kept: number;
  top: WordCount[];
  tasks: number;
  maxRssBytes: number;
}

export function reducedOf(
  results: readonly ReduceResult[],
  mappedTokens: number,
  top: number,
): Reduced {
  checkReduced(results, mappedTokens);
  return {
    distinct: results.reduce((n, r) => n + r.distinct, 0),
    kept: results.reduce((n, r) => n + (r.kept ?? r.distinct), 0),
    top: mergeTop(
      results.map((r) => r.top),
      top,
    ),
    tasks: results.length,
    maxRssBytes: Math.max(0, ...results.map((r) => r.maxRssBytes)),
  };
}

export type AfterReduce = { next: 'counted' } | { next: 'finalize'; requests: FinalizeRequest[] };

/** The counts file merged into `target` from the shards (small), or the finalize requests. */
export async function afterReduce(
  results: readonly ReduceResult[],
  work: ObjectStore,
  options: PhaseOptions & { target?: CountsTarget },
): Promise<AfterReduce> {
  const { target } = options;
  if (!target) return { next: 'counted' };
  const shards = results.flatMap((r) => (r.shard ? [r.shard] : []));
  const requests = finalizeRequestsFor(options, shards);
  if (requests.length > 0) return { next: 'finalize', requests };
  await writing(target, () => mergeIntoTarget(work, shards, target));
  return { next: 'counted' };
}

/** After the finalize phase: its parts, concatenated in order into `target`. */
export async function afterFinalize(
  results: readonly FinalizeResult[],
  work: ObjectStore,
  target: CountsTarget,
): Promise<number> {
  const ordered = [...results].sort((a, b) => a.index - b.index);
  await writing(target, () =>
    concatenateParts(
      work,
      ordered.map((r) => r.part),
      target,
    ),
  );
  return Math.max(0, ...results.map((r) => r.maxRssBytes));
}

async function writing(target: CountsTarget, write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (error) {
    throw new JobFailedError(
      `writing ${target.store.uri(target.key)} failed: ${messageOf(error)}`,
      { cause: error },
    );
  }
}
