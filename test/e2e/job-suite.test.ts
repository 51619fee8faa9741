/**
 * The job suite (test/contract/job-suite.ts) on the emulator, under each coordination:
 * the orchestrator invoked over HTTP as the CLI invokes it, counters as MiniStack's
 * Lambda processes (fed by SQS under queue coordination), S3 as MiniStack's. The stacks
 * have buckets of their own and no trigger, so nothing but the suite starts their jobs.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, inject } from 'vitest';
import { S3ObjectStore } from '../../lib/adapters/s3-store.js';
import { jobRequestOf, type StartRequest } from '../../lib/contracts/requests.js';
import { isTerminal } from '../../lib/job/ledger/status.js';
import { attemptPrefix, ledgerKeys } from '../../lib/keys.js';
import { type Corpora, formatSuite } from '../contract/format-suite.js';
import { type Ended, type JobWorld, jobSuite } from '../contract/job-suite.js';
import { writeCorpora } from '../support/corpora.js';
import {
  endedOf,
  jobRecordsOf,
  latestStatus,
  sampleText,
  whenRunning,
} from '../support/job-world.js';
import {
  BUCKET,
  clients,
  FAILING_ORCHESTRATOR,
  killBusy,
  listKeys,
  SUITE_QUEUE,
  SUITE_RPC,
  upload,
} from './aws.js';

const endpoint = inject('endpoint');
const { s3, lambda } = clients(endpoint);
const run = randomUUID().slice(0, 6);
let genesis: string;

beforeAll(async () => {
  genesis = await sampleText();
});
let corpora: Corpora;
beforeAll(async () => {
  corpora = await writeCorpora(await mkdtemp(join(tmpdir(), 'wordcount-corpora-')));
}, 180_000);
afterAll(() => {
  s3.destroy();
  lambda.destroy();
});

function slowGzip(): Uint8Array {
  const line = Buffer.from('東京タワーは日本の電波塔です。カタカナとひらがなの文章を数える。\n');
  return gzipSync(Buffer.concat(Array.from({ length: (8 << 20) / line.length }, () => line)));
}

/** Invokes an orchestrator as the CLI does; its error message when the function failed. */
async function invoke(functionName: string, payload: unknown): Promise<string | undefined> {
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: functionName, Payload: JSON.stringify(payload) }),
  );
  if (!out.FunctionError) return undefined;
  const body = JSON.parse(new TextDecoder().decode(out.Payload)) as { errorMessage?: string };
  return body.errorMessage ?? out.FunctionError;
}

/** Waits until the request's latest job has ended (queue coordination answers at once). */
async function ended(store: S3ObjectStore, request: StartRequest, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await latestStatus(store, request);
    if (status && isTerminal(status.state)) return;
    if (Date.now() > deadline)
      throw new Error(`the job is ${status?.state ?? 'unknown'} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function world(
  stack: { bucket: string; orchestrator: string; counter: string },
  queued: boolean,
): JobWorld {
  const store = new S3ObjectStore(s3, stack.bucket);
  const count = async (
    request: StartRequest,
    whileRunning?: () => Promise<void>,
  ): Promise<Ended> => {
    let finished = false;
    const during = whileRunning && whenRunning(store, request, () => finished, whileRunning);
    let error: string | undefined;
    try {
      error = await invoke(stack.orchestrator, jobRequestOf(stack.bucket, request));
      if (!error && queued) await ended(store, request);
    } finally {
      finished = true;
    }
    await during;
    return endedOf(store, request, error);
  };
  return {
    prefix: `suite-${run}/`,
    put: (key, body, metadata) =>
      upload(s3, key, body, stack.bucket, metadata).then(() => undefined),
    jobRecords: (summaryKey) => jobRecordsOf(store, summaryKey),
    count,
    countWithFailingTask: queued
      ? async (request) => {
          // The real counter, killed each time a delivery starts to run the task, until the
          // job is failed: after 3 runs its message is dead-lettered and the job fails. One
          // task of a few seconds (Japanese through the segmenter, gzip), so a kill lands.
          const key = request.input.kind === 'key' ? request.input.key : '';
          await upload(s3, key, slowGzip(), stack.bucket);
          const started = count(request);
          let killed = 0;
          let done = false;
          started.finally(() => {
            done = true;
          });
          while (!done) {
            const status = await latestStatus(store, request);
            if (status?.attempt) {
              const runs = ledgerKeys.runs(attemptPrefix(status.jobId, status.attempt), 'map', 0);
              const begun = (await listKeys(s3, runs, stack.bucket)).length;
              if (begun > killed && (await killBusy(stack.counter, 100)) > 0) killed = begun;
            }
            await new Promise((r) => setTimeout(r, 50));
          }
          return started;
        }
      : async (request) => {
          // The deliberately failing counter's stack counts the same object in its bucket.
          const key = request.input.kind === 'key' ? request.input.key : '';
          await upload(s3, key, await store.get(key), BUCKET);
          const error = await invoke(FAILING_ORCHESTRATOR, jobRequestOf(BUCKET, request));
          return endedOf(new S3ObjectStore(s3, BUCKET), request, error);
        },
  };
}

const rpcWorld = world(SUITE_RPC, false);
const queueWorld = world(SUITE_QUEUE, true);
jobSuite(
  'rpc × emulator',
  () => rpcWorld,
  () => genesis,
);
jobSuite(
  'queue × emulator',
  () => queueWorld,
  () => genesis,
);
formatSuite(
  'rpc × emulator',
  () => rpcWorld,
  () => corpora,
);
formatSuite(
  'queue × emulator',
  () => queueWorld,
  () => corpora,
);
