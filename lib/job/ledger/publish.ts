/**
 * Version-safe publishing. A job's counts file waits in jobs/ID/ until it publishes.
 * Publishers of one output take turns under a lock (a lease, so a publisher that died
 * does not block the next for long). Holding it, a publisher checks that the input is
 * still the version it counted: if a newer version was uploaded, its own job will
 * publish, and this one publishes nothing (nor when the input was deleted). Otherwise it copies the counts to the output
 * and writes the summary last, both naming the job. A publish that failed halfway is
 * repaired by the next attempt, which writes both again.
 */

import type { Summary } from '../../contracts/summary.js';
import { JobBusyError, messageOf, ObjectNotFoundError } from '../../errors.js';
import { type InputName, publishLockKey } from '../../keys.js';
import type { Log } from '../../log.js';
import type { ObjectStore } from '../../ports.js';
import { currentVersion } from '../request/inputs.js';
import { Lease } from './lease.js';

/** `deleted`: the input is gone, so there is nothing its output could describe. */
export type Published = 'published' | 'superseded' | 'deleted';

export interface PublishRequest {
  jobId: string;
  /** What the job counted, and the version it counted (its etag). */
  input: InputName;
  version: string;
  /** Where the job staged its counts file. */
  stagedCounts: string;
  /** The report is written when its key is given (a job recorded before reports has none). */
  output: { summary: string; counts: string; report?: string };
  summary: Summary;
  /** Who publishes, for the lock. */
  owner: string;
  /** How long to wait for another publisher of the same output. */
  waitMs?: number;
  periodMs?: number;
  /** Told when the report could not be made (the counts and summary publish regardless). */
  log?: Log;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function publish(store: ObjectStore, request: PublishRequest): Promise<Published> {
  const lock = new Lease(store, publishLockKey(request.output.summary), request.owner, {
    detail: `publishing job ${request.jobId}`,
    periodMs: request.periodMs,
  });
  const deadline = Date.now() + (request.waitMs ?? 3 * lock.periodMs);
  for (;;) {
    const acquired = await lock.acquire();
    if (acquired.held) break;
    if (Date.now() > deadline) {
      throw new JobBusyError(
        `${store.uri(request.output.summary)} is being published by another job (${acquired.holder.detail ?? acquired.holder.owner})`,
      );
    }
    await sleep(250 + Math.random() * 500);
  }
  // Renewed while a big counts file is copied; lost, this publisher writes nothing more
  // (its retry writes both again).
  let lost: string | undefined;
  lock.keepAlive((reason) => {
    lost = reason;
  });
  const stillHeld = () => {
    if (lost) throw new JobBusyError(`publishing job ${request.jobId} stopped: ${lost}`);
  };
  try {
    const current = await currentVersion(store, request.input).catch((error: unknown) => {
      if (error instanceof ObjectNotFoundError) return undefined;
      throw error;
    });
    if (current === undefined) return 'deleted';
    if (current !== request.version) return 'superseded';
    stillHeld();
    const metadata = { 'job-id': request.jobId };
    await store.copy(request.stagedCounts, request.output.counts, {
      contentType: 'text/tab-separated-values',
      metadata,
    });
    stillHeld();
    if (request.output.report) await writeReport(store, request, request.output.report);
    stillHeld();
    // The summary last: a reader that finds it finds the counts of the same job.
    await store.put(request.output.summary, `${JSON.stringify(request.summary, null, 2)}\n`, {
      contentType: 'application/json',
      metadata,
    });
    return 'published';
  } finally {
    await lock.release();
  }
}

/**
 * The report beside the counts, from the counts as published (one streaming pass). It
 * is a view of them: when it cannot be made, the job still publishes, without a report
 * (an earlier version's is removed, so none contradicts the summary), and says why.
 */
export async function writeReport(
  store: ObjectStore,
  request: Pick<PublishRequest, 'jobId' | 'summary' | 'output' | 'log'>,
  key: string,
): Promise<void> {
  const counts = request.output.counts;
  try {
    const { reportHtmlFromCounts } = await import('../../report/from-counts.js');
    const html = await reportHtmlFromCounts(
      store.readRange(counts, { start: 0 }),
      request.summary.totalWords,
      request.summary,
      store.uri(counts),
    );
    await store.put(key, html, {
      contentType: 'text/html; charset=utf-8',
      metadata: { 'job-id': request.jobId },
    });
  } catch (error) {
    request.log?.(`job ${request.jobId}: no report: ${messageOf(error)}`, {
      jobId: request.jobId,
      phase: 'publish',
    });
    await store.delete(key);
  }
}
