/**
 * Admission, what the orchestrator does first under either coordination: resolve the
 * input, check the request against the limits, and derive the job id, before anything
 * is written.
 */
import { randomUUID } from 'node:crypto';
import type { StartRequest } from '../../contracts/requests.js';
import {
  inputEtag,
  inputUri,
  jobIdFor,
  latestJobKey,
  outputKeys,
  publishLockKey,
} from '../../keys.js';
import type { ObjectStore } from '../../ports.js';
import { parseSize } from '../../sizes.js';
import type { Mode } from '../../tokenize.js';
import { type ResolvedInput, resolveInput } from './inputs.js';
import { checkChunkSizeRequest, checkDerivedKeys, checkTaskCount } from './limits.js';

/** What a request asks for, resolved and checked before anything is written. */
export interface Job {
  /** The request as taken: a forced one carries its token, so a restart makes this job. */
  request: StartRequest;
  input: ResolvedInput;
  etag: string;
  jobId: string;
  mode: Mode;
  chunkSize: number;
  output: ReturnType<typeof outputKeys>;
}

export async function admit(
  deps: { store: ObjectStore; bucket: string; defaultChunkSize: number },
  request: StartRequest,
): Promise<Job> {
  const mode = request.mode ?? 'words';
  let chunkSize = deps.defaultChunkSize;
  if (request.chunkSize !== undefined) {
    chunkSize =
      typeof request.chunkSize === 'string' ? parseSize(request.chunkSize) : request.chunkSize;
    checkChunkSizeRequest(chunkSize);
  }
  const output = outputKeys(request.input);
  checkDerivedKeys(inputUri(deps.bucket, request.input), [
    ...Object.values(output),
    publishLockKey(output.summary),
    latestJobKey(output.summary),
  ]);
  const input = await resolveInput(deps.store, request.input);
  checkTaskCount(input.uri, input.objects, chunkSize);
  const etag = inputEtag(input.objects);
  // A forced recount is a job of its own: its token goes into the id.
  const force =
    typeof request.force === 'string' ? request.force : request.force ? randomUUID() : undefined;
  const jobId = jobIdFor({
    bucket: deps.bucket,
    input: input.name,
    objects: force ? [...input.objects, { key: '', etag: force }] : input.objects,
    mode,
    chunkSize,
  });
  return {
    request: { ...request, ...(force && { force }) },
    input,
    etag,
    jobId,
    mode,
    chunkSize,
    output,
  };
}
