/**
 * Admission, what the orchestrator does first under either coordination: resolve the
 * input, check the request against the limits, and derive the job id, before anything
 * is written.
 */
import { randomUUID } from 'node:crypto';
import type { RecordOptions } from '../../contracts/records.js';
import type { StartRequest } from '../../contracts/requests.js';
import { UsageError } from '../../errors.js';
import {
  inputEtag,
  inputUri,
  jobIdFor,
  latestJobKey,
  outputKeys,
  publishLockKey,
} from '../../keys.js';
import { growChunkSize, totalBytes } from '../../plan.js';
import type { ObjectStore } from '../../ports.js';
import { parseSize } from '../../sizes.js';
import type { Mode } from '../../tokenize.js';
import { PUBLISHED_TOP } from '../phases/summary.js';
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
  /** How the objects are read (only what the request set: the rest are defaults). */
  records: RecordOptions;
  /** Top words the published summary keeps: PUBLISHED_TOP, or more if the upload asks. */
  publishedTop: number;
  /** Words counted fewer times are left out of the counts, top and report (absent: none). */
  minCount?: number;
  chunkSize: number;
  output: ReturnType<typeof outputKeys>;
}

export async function admit(
  deps: { store: ObjectStore; bucket: string; defaultChunkSize: number },
  request: StartRequest,
): Promise<Job> {
  const output = outputKeys(request.input);
  checkDerivedKeys(inputUri(deps.bucket, request.input), [
    ...Object.values(output),
    publishLockKey(output.summary),
    latestJobKey(output.summary),
  ]);
  const input = await resolveInput(deps.store, request.input);
  // What the upload asks (a manifest, an object's metadata), under what the request asks.
  const asked = { ...input.options, ...definedOf(request) };
  const mode = asked.mode ?? 'words';
  // The default grows with the input, so a terabyte is a plannable job (plan.ts).
  let chunkSize = growChunkSize(totalBytes(input.objects), deps.defaultChunkSize);
  if (asked.chunkSize !== undefined) {
    chunkSize = typeof asked.chunkSize === 'string' ? parseSize(asked.chunkSize) : asked.chunkSize;
    checkChunkSizeRequest(chunkSize);
  }
  const records: RecordOptions = {
    ...(asked.format !== undefined && asked.format !== 'auto' && { format: asked.format }),
    ...(asked.field !== undefined && { field: asked.field }),
    ...(asked.strict && { strict: true }),
    // The default is left out, so a job id names only a segmenter that was asked for.
    ...(asked.segmenter !== undefined &&
      asked.segmenter !== 'auto' && { segmenter: asked.segmenter }),
    // 1 is single tokens, the kernel's own count: left out, as the default.
    ...(asked.ngram !== undefined && asked.ngram > 1 && { ngram: asked.ngram }),
    ...(asked.docFreq && { docFreq: true }),
  };
  if (asked.segmenter !== undefined && asked.segmenter !== 'auto' && mode !== 'words') {
    throw new UsageError('segmenter: only words mode segments text (the mode is whitespace)');
  }
  checkTaskCount(input.uri, input.objects, chunkSize);
  const publishedTop = Math.max(PUBLISHED_TOP, input.options.top ?? 0);
  // 1 keeps every word: the same output, so the same job as none.
  const minCount = asked.minCount !== undefined && asked.minCount > 1 ? asked.minCount : undefined;
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
    records,
    // Another top list is another published summary.
    top: publishedTop === PUBLISHED_TOP ? undefined : publishedTop,
    // The published counts, top and report change with it.
    minCount,
  });
  return {
    request: { ...request, ...(force && { force }) },
    input,
    etag,
    jobId,
    mode,
    records,
    publishedTop,
    ...(minCount !== undefined && { minCount }),
    chunkSize,
    output,
  };
}

/** The options a request sets (undefined ones do not hide an upload's). */
function definedOf(request: StartRequest): Partial<StartRequest> {
  return Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined));
}
