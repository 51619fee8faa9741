/**
 * The end of a queued job whose counts are staged: its summary (with what the job cost,
 * its phases timed from the ledger's records), then publishCounted, then the attempt's
 * temporaries removed.
 */

import type { Mapped, QueuedJob } from '../../contracts/queue.js';
import type { Summary } from '../../contracts/summary.js';
import { costOf } from '../../cost/job-cost.js';
import { DEFAULT_PRICES } from '../../cost/prices.js';
import type { UsageTally } from '../../cost/usage.js';
import { peakRssBytes } from '../../rss.js';
import type { JobLedger } from '../ledger/attempt-ledger.js';
import { publishCounted } from '../ledger/publish-counted.js';
import { removeAttemptObjects } from '../ledger/temporaries.js';
import { summaryOf } from '../phases/summary.js';
import { nowOf, type QueueDeps } from './deps.js';

export interface Tally {
  mapped: Mapped;
  distinct: number;
  /** Of them, those the counts file holds (counted at least the job's minCount times). */
  kept: number;
  top: Summary['top'];
  reduceTasks: number;
  maxRssBytes: number;
  /** What the job used: asked for as the summary is written. */
  usage?: () => UsageTally | undefined;
}

/** The counts are staged: summarize, publish (version-safe), record the outcome, clean up. */
export async function publishQueued(
  deps: QueueDeps,
  ledger: JobLedger,
  job: QueuedJob,
  tally: Tally,
): Promise<void> {
  const { store } = deps;
  const atOf = async (phase: 'reduce' | 'finalize') => {
    const record = await ledger.phase(phase);
    return record ? Date.parse(record.at) : undefined;
  };
  const started = Date.parse(job.startedAt);
  const planned = Date.parse(job.plannedAt);
  const end = nowOf(deps).getTime();
  const mapped = (await atOf('reduce')) ?? end;
  const reduced = (await atOf('finalize')) ?? mapped;
  const usage = tally.usage?.();
  const summary: Summary = {
    jobId: job.jobId,
    ...summaryOf({
      source: job.source,
      objects: [{ size: job.sources.bytes }],
      mode: job.mode,
      concurrency: job.concurrency,
      chunkSize: job.chunkSize,
      mapTasks: job.mapTasks,
      partitions: job.partitions,
      reduceTasks: tally.reduceTasks,
      map: tally.mapped,
      records: job.records,
      distinct: tally.distinct,
      minCount: job.minCount,
      kept: tally.kept,
      top: tally.top.slice(0, job.top),
      maxRssBytes: Math.max(tally.maxRssBytes, peakRssBytes()),
      elapsedMs: end - started,
      phasesMs: {
        plan: Math.max(0, planned - started),
        map: Math.max(0, mapped - planned),
        reduce: Math.max(0, reduced - mapped),
        publish: Math.max(0, end - reduced),
      },
      // The orchestrator's use and the tasks' are all in the tally.
      cost: usage && costOf(usage, { backend: 'lambda', prices: deps.prices ?? DEFAULT_PRICES }),
    }),
    sources: job.sources,
  };
  const outcome = await publishCounted(deps, {
    jobId: job.jobId,
    attempt: job.attempt,
    input: job.input,
    version: job.source.etag,
    stagedCounts: ledger.stagedCountsKey(),
    output: job.output,
    summary,
  });
  if (outcome === 'published') deps.onPublished?.(summary);
  if (outcome !== 'replaced') await removeAttemptObjects(store, ledger.prefix, deps.log);
}
