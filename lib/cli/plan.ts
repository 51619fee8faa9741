/**
 * `wordcount plan SOURCE...`: what a job over the sources would do on AWS and what it
 * would cost, reading no data. Local files and directories are planned from their sizes
 * as the orchestrator would plan them uploaded; s3:// sources are listed (LIST and HEAD
 * only) and admitted as the orchestrator admits them, or, when an orchestrator is named,
 * planned by it (`"dryRun": true`) with its deployment's chunk size, width and prices.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FileObjectStore } from '../adapters/file-store.js';
import { parsePayload } from '../contracts/parse.js';
import { type Coordination, type PlanSummary, PlanSummarySchema } from '../contracts/plan.js';
import { jobRequestOf, type StartRequest } from '../contracts/requests.js';
import { parsePrices } from '../cost/prices.js';
import { ACCOUNT_CONCURRENCY } from '../cost/rates.js';
import { ROOT, resolveSources } from '../embedded/local-sources.js';
import { UsageError } from '../errors.js';
import { type Deployment, dryPlan, dryPlanOfJob } from '../job/phases/dry-plan.js';
import { admit } from '../job/request/admit.js';
import { checkChunkSizeRequest, checkTaskCount } from '../job/request/limits.js';
import { DEFAULT_CHUNK_SIZE, growChunkSize, totalBytes } from '../plan.js';
import type { FormatOption } from '../records/formats.js';
import type { Mode } from '../tokenize.js';

export interface PlanOptions {
  mode: Mode;
  format: FormatOption;
  /** --doc-freq: a text object is one document, read whole (not cut into ranges). */
  docFreq?: boolean;
  chunkSize?: number;
  width?: number;
  json?: boolean;
  function?: string;
}

const COORDINATIONS: readonly Coordination[] = ['queue', 'rpc'];

/** The deployment a plan made here assumes: the defaults sst.config.ts deploys, at `--width`. */
function deploymentOf(options: PlanOptions): Deployment {
  return {
    defaultChunkSize: DEFAULT_CHUNK_SIZE,
    width: options.width ?? ACCOUNT_CONCURRENCY,
    widthReason:
      options.width !== undefined
        ? 'asked for (--width)'
        : `an account's default concurrency; the stack runs WORDCOUNT_COUNTERS (64 unless set) at once: --width 64 for that`,
    coordinations: COORDINATIONS,
    // As the deployed functions read it (README, What a job costs).
    prices: parsePrices(process.env.WORDCOUNT_PRICES),
  };
}

export async function planSources(
  sources: readonly string[],
  options: PlanOptions,
): Promise<PlanSummary> {
  const remote = sources.filter((s) => s.startsWith('s3://'));
  if (remote.length > 0 && remote.length < sources.length) {
    const local = sources.find((s) => !s.startsWith('s3://'));
    throw new UsageError(`${local}: local and s3:// sources do not mix in one job`);
  }
  if (remote.length > 0) return planS3(sources, options);
  if (options.function !== undefined) {
    throw new UsageError('--function applies to s3:// sources: a local plan is made here');
  }
  return planFiles(sources, options);
}

/** What the job asks, as a start request: mode, chunk size, format and document frequency. */
function startRequest(input: StartRequest['input'], options: PlanOptions): StartRequest {
  return {
    input,
    mode: options.mode,
    ...(options.chunkSize !== undefined && { chunkSize: options.chunkSize }),
    ...(options.format !== 'auto' && { format: options.format }),
    ...(options.docFreq && { docFreq: true }),
  };
}

async function planS3(uris: readonly string[], options: PlanOptions): Promise<PlanSummary> {
  const { awsAccess, remoteInput } = await import('./remote.js');
  const { bucket, input } = remoteInput(uris);
  const request = startRequest(input, options);
  const functionName = options.function ?? process.env.WORDCOUNT_ORCHESTRATOR_FUNCTION;
  const aws = await awsAccess();
  if (functionName) {
    if (options.width !== undefined) {
      throw new UsageError(
        `--width: the orchestrator ${functionName} plans at its deployment's width; to plan at another, unset WORDCOUNT_ORCHESTRATOR_FUNCTION and --function`,
      );
    }
    const answer = await aws
      .runner()
      .invoke(functionName, jobRequestOf(bucket, { ...request, dryRun: true }));
    return parsePayload(PlanSummarySchema, answer, `plan from ${functionName}`);
  }
  const deployment = deploymentOf(options);
  const store = aws.store(bucket);
  const job = await admit(
    { store, bucket, defaultChunkSize: deployment.defaultChunkSize },
    request,
  );
  return dryPlanOfJob(job, deployment);
}

/** Local sources as the orchestrator would plan them uploaded: sizes from the file system. */
async function planFiles(args: readonly string[], options: PlanOptions): Promise<PlanSummary> {
  let listing: 'prefix' | 'keys' = 'keys';
  for (const arg of args) {
    if (arg === '-') {
      throw new UsageError('-: standard input has no size until it is read: plan a file');
    }
    const found = await stat(resolve(arg)).catch(() => undefined);
    // A pipe or a device has no size either; a missing file is the walk's to report.
    if (found && !found.isFile() && !found.isDirectory()) {
      throw new UsageError(`${arg}: not a regular file: its size is known only by reading it`);
    }
    if (found?.isDirectory()) listing = 'prefix';
  }
  const scratch = await mkdtemp(join(tmpdir(), 'wordcount-plan-'));
  try {
    const objects = await resolveSources(new FileObjectStore(ROOT), args, scratch);
    const uri = args.map((a) => resolve(a)).join(' ');
    const deployment = deploymentOf(options);
    // As admission chooses it (request/admit.ts): the default grows with the input.
    let chunkSize = growChunkSize(totalBytes(objects), deployment.defaultChunkSize);
    if (options.chunkSize !== undefined) {
      chunkSize = options.chunkSize;
      checkChunkSizeRequest(chunkSize);
    }
    checkTaskCount(uri, objects, chunkSize);
    return dryPlan(
      { uri, listing, objects },
      {
        ...deployment,
        mode: options.mode,
        ...(options.format !== 'auto' && { format: options.format }),
        ...(options.docFreq && { docFreq: true }),
        chunkSize,
        chunkSizeAsked: options.chunkSize !== undefined,
      },
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
