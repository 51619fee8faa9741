/**
 * What the orchestrator does first under either coordination: resolve the input, check
 * the request against the limits, and derive the job id, before anything is written.
 */
import { randomUUID } from 'node:crypto';
import type { StartRequest, Summary } from '../contracts.js';
import { ObjectNotFoundError } from '../errors.js';
import {
  inputEtag,
  inputUri,
  jobIdFor,
  latestJobKey,
  outputKeys,
  publishLockKey,
} from '../keys.js';
import type { ObjectStore } from '../ports.js';
import { forEachLine } from '../reduce/order.js';
import { parseSize } from '../sizes.js';
import type { Mode } from '../tokenize.js';
import { type ResolvedInput, resolveInput } from './inputs.js';
import { checkChunkSizeRequest, checkDerivedKeys, checkTaskCount } from './limits.js';

/** What the orchestrator is asked to count, and how (contracts' StartRequest). */
export type JobRequestOptions = StartRequest;

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

export async function readJson(store: ObjectStore, key: string): Promise<unknown | undefined> {
  try {
    return JSON.parse(decoder.decode(await store.get(key)));
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}

/** The summary with `top` words: cut from its own list, or read from the head of the counts file. */
export async function withTop(
  store: ObjectStore,
  summary: Summary,
  countsKey: string,
  top: number | undefined,
): Promise<Summary> {
  if (top === undefined || top === summary.top.length) return summary;
  if (top < summary.top.length || summary.top.length === summary.distinctWords) {
    return { ...summary, top: summary.top.slice(0, top) };
  }
  const rows: Summary['top'] = [];
  let carry = new Uint8Array(0);
  for await (const piece of store.readRange(countsKey, { start: 0, pieceSize: 1 << 16 })) {
    const joined = new Uint8Array(carry.length + piece.length);
    joined.set(carry);
    joined.set(piece, carry.length);
    const complete = joined.lastIndexOf(10) + 1;
    forEachLine(
      joined.subarray(0, complete),
      (word, count) => {
        if (rows.length < top) rows.push({ word, count });
      },
      store.uri(countsKey),
    );
    carry = joined.slice(complete);
    if (rows.length >= top) break;
  }
  return { ...summary, top: rows };
}

/** What a request asks for, resolved and checked before anything is written. */
export interface Job {
  /** The request as taken: a forced one carries its token, so a restart makes this job. */
  request: StartRequest;
  input: ResolvedInput;
  etag: string;
  jobId: string;
  mode: Mode;
  chunkSize: number;
  output: { summary: string; counts: string };
}

export async function prepare(
  deps: { store: ObjectStore; bucket: string; defaultChunkSize: number },
  request: JobRequestOptions,
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
