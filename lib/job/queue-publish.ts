/**
 * The end of a queued job whose counts are staged: its summary (with what the job cost),
 * the version-safe publish, the outcome recorded, the temporaries removed.
 */
import type { Summary } from '../contracts.js';
import { costOf } from '../cost/job-cost.js';
import { DEFAULT_PRICES } from '../cost/prices.js';
import type { UsageTally } from '../cost/usage.js';
import { inputEtag } from '../keys.js';
import type { Mapped, QueuedJob } from '../queue-contracts.js';
import { peakRssBytes } from '../rss.js';
import { clearActive } from './active.js';
import { resolveInput } from './inputs.js';
import type { JobLedger } from './ledger.js';
import { SUPERSEDED_REASON } from './outcome.js';
import { publish } from './publish.js';
import { nowOf, type QueueDeps, updateAttempt } from './queue-deps.js';
import { summaryOf } from './summary.js';
import { removeAttemptObjects } from './temporaries.js';

export interface Tally {
  mapped: Mapped;
  distinct: number;
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
      distinct: tally.distinct,
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
  // Counted: from here only this attempt's publish changes the record.
  const counted = await updateAttempt(
    deps,
    ledger,
    (s) => {
      s.state = 'counted';
      s.summary = summary;
    },
    ['running', 'counted'],
  );
  if (!counted) {
    deps.log?.(`job ${job.jobId}: attempt ${job.attempt} ended or was replaced; not publishing`, {
      jobId: job.jobId,
    });
    return;
  }
  const outcome = await publish(store, {
    jobId: job.jobId,
    version: job.source.etag,
    currentVersion: async () => inputEtag((await resolveInput(store, job.input)).objects),
    stagedCounts: ledger.stagedCountsKey(),
    output: job.output,
    summary,
    owner: `${job.jobId}/${job.attempt}`,
    periodMs: deps.heartbeatMs,
    log: deps.log,
  });
  const ended = await updateAttempt(
    deps,
    ledger,
    (s) => {
      s.state = outcome === 'published' ? 'succeeded' : 'superseded';
      if (outcome === 'superseded') s.reason = SUPERSEDED_REASON;
    },
    ['counted'],
  );
  if (ended) await clearActive(store, job.jobId);
  deps.log?.(`job ${job.jobId}: ${outcome} ${store.uri(job.output.summary)}`, {
    jobId: job.jobId,
    attempt: job.attempt,
    phase: 'publish',
  });
  if (outcome === 'published') deps.onPublished?.(summary);
  await removeAttemptObjects(store, ledger.prefix, deps.log);
}
