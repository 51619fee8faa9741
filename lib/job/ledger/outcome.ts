/**
 * How a job ends, in one vocabulary for both coordinations (the README's failure table):
 *
 *   succeeded   published: summary, counts and report under output/
 *   superseded  the input changed while it counted: the newer version's job publishes
 *   failed      a task failed for good, or the job stopped and could not be brought back;
 *               the reason says which
 *   refused     an upload asked for what cannot be counted (a bad manifest, a missing
 *               key, over a limit): nothing but this record is written
 *
 * An ending is recorded once: a record that ended already is left as it is.
 */
import { createHash } from 'node:crypto';
import type { StartRequest } from '../../contracts/requests.js';
import type { JobStatus } from '../../contracts/status.js';
import { ObjectNotFoundError, PreconditionFailedError, taskErrorType } from '../../errors.js';
import {
  COUNTING_RULES_VERSION,
  type InputName,
  latestJobKey,
  outputBase,
  outputKeys,
  statusKey,
} from '../../keys.js';
import type { ObjectStore } from '../../ports.js';
import { currentVersion } from '../request/inputs.js';
import { MAX_KEY_BYTES } from '../request/limits.js';
import { clearIfEnded } from './active-jobs.js';
import { isTerminal, updateAttempt, updateStatus } from './status.js';

/** Why a job whose input changed under it published nothing. */
export const SUPERSEDED_REASON = 'a newer version of the input was uploaded: its own job publishes';

/** Why a job whose input was deleted while it counted published nothing. */
export const DELETED_REASON = 'the input was deleted while it was counted: nothing is published';

export type Ending = 'failed' | 'superseded' | 'refused';

interface EndingDeps {
  store: ObjectStore;
  now?: () => Date;
}

/** A record for a job that ended before it wrote one of its own (no input resolved). */
function blankStatus(
  jobId: string,
  bucket: string,
  request: StartRequest,
  state: Ending,
  reason: string,
  now: Date,
): JobStatus {
  const { input } = request;
  const name =
    input.kind === 'key' ? input.key : input.kind === 'prefix' ? input.prefix : input.keys[0];
  return {
    jobId,
    state,
    reason,
    input: { bucket, uri: `s3://${bucket}/${name ?? ''}`, etag: '', objects: 0, bytes: 0 },
    mode: request.mode ?? 'words',
    updatedAt: now.toISOString(),
    tasks: { map: 0, mapDone: 0, reduce: 0, reduceDone: 0 },
    output: outputKeys(input),
  };
}

/** Whether a task failed because an object changed while it was read (If-Match). */
export function failedOnChange(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (taskErrorType(e) === 'PreconditionFailedError') return true;
  }
  return false;
}

/** Whether the input now has another version than `etag` (deleted objects are no newer version). */
export async function inputChanged(
  store: ObjectStore,
  input: InputName,
  etag: string,
): Promise<boolean> {
  try {
    return (await currentVersion(store, input)) !== etag;
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return false;
    throw error;
  }
}

/**
 * Records that job `jobId` ended unpublished, unless its record says it ended already,
 * and takes it off the watchdog's list. With the status as read, only that attempt is
 * ended (one that replaced it meanwhile is left running); a job that never wrote a
 * record gets one, unless one was written meanwhile. Returns whether it was recorded.
 */
export async function recordOutcome(
  deps: EndingDeps,
  jobId: string,
  state: Ending,
  reason: string,
  known: { status?: JobStatus; request: StartRequest; bucket?: string },
): Promise<boolean> {
  const now = (deps.now ?? (() => new Date()))();
  const end = (s: JobStatus) => {
    s.state = state;
    s.reason = reason;
  };
  let recorded: boolean;
  if (known.status?.attempt) {
    recorded = await updateAttempt(deps, jobId, known.status.attempt, end, ['running', 'counted']);
  } else if (known.status) {
    recorded = await updateStatus(deps, jobId, (s) => {
      if (isTerminal(s.state)) return false;
      end(s);
      return true;
    });
  } else {
    const bucket = known.bucket ?? '';
    const record = blankStatus(jobId, bucket, known.request, state, reason, now);
    try {
      await deps.store.put(statusKey(jobId), JSON.stringify(record, null, 2), {
        contentType: 'application/json',
        ifNoneMatch: true,
      });
      recorded = true;
    } catch (error) {
      if (!(error instanceof PreconditionFailedError)) throw error;
      recorded = false;
    }
    const latest = latestJobKey(record.output.summary);
    // An input refused for a name too long to count has a pointer too long for S3: its
    // record stays under its id (the orchestrator's log names it).
    if (recorded && Buffer.byteLength(latest) <= MAX_KEY_BYTES) {
      await deps.store.put(latest, JSON.stringify({ jobId }), {
        contentType: 'application/json',
      });
    }
  }
  if (recorded) await clearIfEnded(deps.store, jobId);
  return recorded;
}

/**
 * An upload that ended before a job of it could start: refused (it asked for what
 * cannot be counted), or failed (the orchestrator failed on every attempt). Recorded
 * under an id of the upload's own (its version), so `wordcount status` tells the
 * uploader why; nothing else is written.
 */
export async function recordUploadEnding(
  deps: EndingDeps & { bucket: string },
  upload: { key: string; version: string },
  state: 'refused' | 'failed',
  reason: string,
): Promise<string> {
  const input = { kind: 'key', key: upload.key } as const;
  const jobId = createHash('sha256')
    .update(
      JSON.stringify([
        COUNTING_RULES_VERSION,
        deps.bucket,
        outputBase(input),
        state,
        upload.version,
      ]),
    )
    .digest('hex')
    .slice(0, 32);
  await recordOutcome(deps, jobId, state, reason, { request: { input }, bucket: deps.bucket });
  return jobId;
}
