/**
 * The end of a counted attempt, for both drivers: recorded `counted` with its summary
 * (from here only this attempt's publish changes the record), published version-safely
 * (publish.ts), recorded `succeeded` or `superseded`, and taken off the watchdog's list.
 */
import type { Summary } from '../../contracts/summary.js';
import type { InputName } from '../../keys.js';
import type { Log } from '../../log.js';
import type { ObjectStore } from '../../ports.js';
import { clearIfEnded } from './active-jobs.js';
import { DELETED_REASON, SUPERSEDED_REASON } from './outcome.js';
import { type Published, publish } from './publish.js';
import { updateAttempt } from './status.js';

export interface CountedAttempt {
  jobId: string;
  attempt: string;
  input: InputName;
  /** The input version it counted. */
  version: string;
  /** Where its counts file is staged. */
  stagedCounts: string;
  output: { summary: string; counts: string; report?: string };
  summary: Summary;
}

/** How a counted attempt ended; `replaced` when another attempt took the job over first. */
export type Publication = Published | 'replaced';

export async function publishCounted(
  deps: { store: ObjectStore; now?: () => Date; heartbeatMs?: number; log?: Log },
  counted: CountedAttempt,
): Promise<Publication> {
  const { store } = deps;
  const { jobId, attempt } = counted;
  const recorded = await updateAttempt(
    deps,
    jobId,
    attempt,
    (s) => {
      s.state = 'counted';
      s.summary = counted.summary;
      s.staged = counted.stagedCounts;
    },
    ['running', 'counted'],
  );
  if (!recorded) {
    deps.log?.(`job ${jobId}: attempt ${attempt} ended or was replaced; not publishing`, { jobId });
    return 'replaced';
  }
  const outcome = await publish(store, {
    jobId,
    input: counted.input,
    version: counted.version,
    stagedCounts: counted.stagedCounts,
    output: counted.output,
    summary: counted.summary,
    owner: `${jobId}/${attempt}`,
    periodMs: deps.heartbeatMs,
    log: deps.log,
  });
  const ended = await updateAttempt(
    deps,
    jobId,
    attempt,
    (s) => {
      if (outcome === 'published') {
        s.state = 'succeeded';
        // A reason an earlier run of it ended with no longer applies.
        delete s.reason;
      } else {
        s.state = 'superseded';
        s.reason = outcome === 'deleted' ? DELETED_REASON : SUPERSEDED_REASON;
      }
      delete s.staged;
    },
    ['counted'],
  );
  if (ended) await clearIfEnded(store, jobId);
  deps.log?.(
    `job ${jobId}: ${outcome} ${store.uri(counted.output.summary)} (${counted.summary.totalWords} words)`,
    { jobId, attempt, phase: 'publish' },
  );
  return outcome;
}
