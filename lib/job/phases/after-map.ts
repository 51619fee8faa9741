/**
 * The step after the map phase, written once for both drivers: every count inline (the
 * driver's table holds the whole vocabulary, under its limit) is counted here, sorted into
 * the counts file with its top words (both without the words counted fewer than
 * `minCount` times: the counts are whole here); otherwise the driver's table is spilled
 * like a map output and the reduce phase is planned.
 */
import type { ReduceRequest } from '../../contracts/tasks.js';
import { JobFailedError, messageOf } from '../../errors.js';
import { keptOfTable, sortTable, topOfTable } from '../../reduce/merge-partials.js';
import { topOf, type WordCount } from '../../reduce/order.js';
import { keptOf, sortedLines } from '../../reduce/sort-entries.js';
import type { CountsTarget } from '../tasks/finalize-task.js';
import type { MapResults } from './map-results.js';
import { type PhaseOptions, reduceRequestsFor } from './reduce-plan.js';

export type AfterMap =
  | { next: 'counted'; distinct: number; kept: number; top: WordCount[] }
  | { next: 'reduce'; requests: ReduceRequest[] };

/**
 * Counted (the counts file written to `target`, when there is one) or the reduce
 * requests. `partition` forces the reduce phase (measuring); a job's spilled map
 * outputs force it anyway.
 */
export async function afterMap(
  map: MapResults,
  options: PhaseOptions & { target?: CountsTarget; partition?: boolean },
): Promise<AfterMap> {
  if (map.inline && !options.partition) {
    const { target, minCount, docFreq } = options;
    // Without a counts file only the top words need an order (with document counts,
    // the words are told from them by the full sort).
    const sorted =
      target || docFreq ? sortTable(map.table, docFreq) : topOfTable(map.table, options.top);
    if (target) {
      await target.store
        .put(target.key, sortedLines(sorted, { minCount }), {
          contentType: 'text/tab-separated-values',
        })
        .catch((error: unknown) => {
          throw new JobFailedError(
            `writing ${target.store.uri(target.key)} failed: ${messageOf(error)}`,
            { cause: error },
          );
        });
    }
    return {
      next: 'counted',
      distinct: docFreq ? sorted.list.size : map.table.size,
      kept: docFreq ? keptOf(sorted, minCount) : keptOfTable(map.table, minCount),
      top: topOf(sortedLines(sorted, { limit: options.top, minCount })),
    };
  }
  await map.spillInline();
  await map.parts.flush();
  return { next: 'reduce', requests: reduceRequestsFor(options, map.parts) };
}
