/**
 * What the orchestrator does with an upload under input/: start its job (either
 * coordination's start). An upload that asks for what cannot be counted is recorded
 * refused, not retried; a start another invocation holds is left to it (and to the
 * watchdog, should it die); anything else is thrown, for Lambda to retry.
 */
import type { StartRequest } from '../contracts/requests.js';
import {
  InvalidPayloadError,
  isDeterministic,
  JobBusyError,
  messageOf,
  ObjectNotFoundError,
  UsageError,
  WordcountError,
} from '../errors.js';
import type { Log } from '../log.js';
import type { ObjectStore } from '../ports.js';
import { activeJobIds, readActive } from './ledger/active-jobs.js';
import { failedOnChange, recordUploadEnding } from './ledger/outcome.js';

/** A coordination's start of a job: rpc runs it to its end, queue sends its map tasks. */
export type StartJob = (request: StartRequest) => Promise<{ jobId: string; outcome: string }>;

/** Errors that say the upload itself cannot be counted: retrying changes nothing. */
export function isRefusal(error: unknown): boolean {
  return (
    error instanceof UsageError ||
    error instanceof ObjectNotFoundError ||
    error instanceof InvalidPayloadError
  );
}

export interface UploadDeps {
  store: ObjectStore;
  bucket: string;
  start: StartJob;
  log?: Log;
  now?: () => Date;
}

/** Starts the job of one upload; returns a line saying what became of it. */
export async function startUpload(
  deps: UploadDeps,
  upload: { key: string; version: string },
): Promise<string> {
  const source = deps.store.uri(upload.key);
  try {
    const { jobId, outcome } = await deps.start({ input: { kind: 'key', key: upload.key } });
    return `${outcome}: ${source} (job ${jobId})`;
  } catch (error) {
    if (error instanceof JobBusyError) return `being started elsewhere: ${messageOf(error)}`;
    const recorded = error instanceof WordcountError ? error.recordedAs : undefined;
    if (recorded && isDeterministic(error)) {
      const state = isRefusal(error) ? 'refused' : 'failed';
      return `${state}: ${source}: ${messageOf(error)} (recorded as job ${recorded})`;
    }
    if (isRefusal(error)) {
      const jobId = await recordUploadEnding(deps, upload, 'refused', messageOf(error));
      return `refused: ${source}: ${messageOf(error)} (recorded as job ${jobId})`;
    }
    // A corrupt input fails the same way on every retry: recorded failed at once. An
    // object that changed meanwhile is not: its newer upload starts its own job (and
    // the retry sees that version), so no record may take the latest pointer from it.
    if (!isDeterministic(error) || failedOnChange(error)) throw error;
    const jobId = await recordUploadEnding(deps, upload, 'failed', messageOf(error));
    return `failed: ${source}: ${messageOf(error)} (recorded as job ${jobId})`;
  }
}

/**
 * Every attempt at starting an upload's job failed (Lambda's on-failure destination
 * says so): unless a job of it is recorded active (the watchdog finishes that one), the
 * upload is recorded failed with the last error, so its uploader learns why.
 */
export async function recordFailedStart(
  deps: Omit<UploadDeps, 'start'>,
  upload: { key: string; version: string },
  error: string,
): Promise<string> {
  const source = deps.store.uri(upload.key);
  for await (const jobId of activeJobIds(deps.store)) {
    const input = (await readActive(deps.store, jobId))?.record.request.input;
    if (input?.kind === 'key' && input.key === upload.key) {
      return `${source}: its start failed on every attempt, but job ${jobId} is recorded active: the watchdog finishes it`;
    }
  }
  const reason = `the orchestrator failed on every attempt to start it: ${error}`;
  const jobId = await recordUploadEnding(deps, upload, 'failed', reason);
  return `${source}: ${reason} (recorded as job ${jobId})`;
}
