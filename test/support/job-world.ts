/** Helpers the job suite's worlds share: how a job ended, seen through its store. */
import { readFile } from 'node:fs/promises';
import type { StartRequest } from '../../lib/contracts/requests.js';
import type { JobStatus } from '../../lib/contracts/status.js';
import { SummarySchema } from '../../lib/contracts/summary.js';
import { latestJobId, readStatus } from '../../lib/job/ledger/status.js';
import { outputKeys } from '../../lib/keys.js';
import type { ObjectStore } from '../../lib/ports.js';
import type { Ended } from '../contract/job-suite.js';

const decoder = new TextDecoder();

/** The latest job of the request's output: its status and, when it published, its output. */
export async function endedOf(
  store: ObjectStore,
  request: StartRequest,
  error?: string,
): Promise<Ended> {
  const output = outputKeys(request.input);
  const jobId = await latestJobId(store, output.summary);
  const status = jobId === undefined ? undefined : await readStatus(store, jobId);
  if (status?.state !== 'succeeded') return { status, ...(error !== undefined && { error }) };
  const summary = SummarySchema.parse(JSON.parse(decoder.decode(await store.get(output.summary))));
  const tsv = decoder.decode(await store.get(output.counts));
  return { status, summary, tsv, ...(error !== undefined && { error }) };
}

/** The latest status of the request's output, if any. */
export async function latestStatus(
  store: ObjectStore,
  request: StartRequest,
): Promise<JobStatus | undefined> {
  const jobId = await latestJobId(store, outputKeys(request.input).summary);
  return jobId === undefined ? undefined : readStatus(store, jobId);
}

/**
 * Calls `then` once the request's job is recorded running with its map tasks planned (an
 * overwrite mid-job); gives up quietly if the job ended first.
 */
export async function whenRunning(
  store: ObjectStore,
  request: StartRequest,
  done: () => boolean,
  then: () => Promise<void>,
): Promise<void> {
  const before = await latestStatus(store, request).catch(() => undefined);
  for (;;) {
    const status = await latestStatus(store, request).catch(() => undefined);
    if (
      status &&
      status.jobId !== before?.jobId &&
      status.state === 'running' &&
      status.tasks.map > 0
    ) {
      await then();
      return;
    }
    if (done()) {
      await then();
      return;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Genesis, the project's sample text. */
export async function sampleText(): Promise<string> {
  return readFile(new URL('../../samples/kjv-genesis.txt', import.meta.url), 'utf8');
}

/** The keys under jobs/ about an output: its latest pointer, if anything was recorded. */
export async function jobRecordsOf(store: ObjectStore, summaryKey: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.list(`jobs/latest/${summaryKey}`)) keys.push(info.key);
  return keys;
}
