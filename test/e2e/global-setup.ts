import type { TestProject } from 'vitest/node';
import { startEmulator, stopEmulator } from '../../scripts/emulator.mjs';
import { deployStack } from '../../scripts/local-stack.js';
import {
  QUEUE_BUCKET,
  QUEUE_COUNTER_TIMEOUT_SECONDS,
  QUEUE_PREFIX,
  QUEUE_STALL_SECONDS,
  SUITE_QUEUE,
  SUITE_RPC,
} from './aws.js';

declare module 'vitest' {
  export interface ProvidedContext {
    endpoint: string;
  }
}

/** Starts the emulator unless it runs already, deploys the stacks, stops what it started. */
export default async function setup(project: TestProject) {
  const quiet = () => {};
  const { endpoint, alreadyRunning } = await startEmulator({ log: quiet });
  // A short heartbeat, so a killed orchestrator's claim goes stale in 10 s, not a minute.
  await deployStack({
    endpoint,
    coordination: 'rpc',
    chunkSize: '64KiB',
    concurrency: '8',
    environment: { WORDCOUNT_HEARTBEAT_SECONDS: '5' },
  });
  // Queue coordination in a bucket of its own; a short counter timeout, so a message whose
  // counter died comes back after 12 s (the visibility timeout is twice the counter's), and
  // a job that makes no progress for 15 s has its lost messages sent again.
  await deployStack({
    endpoint,
    bucket: QUEUE_BUCKET,
    prefix: QUEUE_PREFIX,
    coordination: 'queue',
    counterTimeout: QUEUE_COUNTER_TIMEOUT_SECONDS,
    chunkSize: '64KiB',
    concurrency: '4',
    environment: {
      WORDCOUNT_HEARTBEAT_SECONDS: '5',
      WORDCOUNT_STALL_SECONDS: String(QUEUE_STALL_SECONDS),
    },
  });
  // A deliberately failing counter and an orchestrator pointed at it; no trigger.
  await deployStack({
    endpoint,
    prefix: 'wordcount-failing',
    counterEntry: 'test/fixtures/failing-counter.mjs',
    coordination: 'rpc',
    notify: false,
    schedule: false,
  });
  // The job suite's stacks, one per coordination, started only by the suite's requests.
  for (const [stack, coordination] of [
    [SUITE_RPC, 'rpc'],
    [SUITE_QUEUE, 'queue'],
  ] as const) {
    await deployStack({
      endpoint,
      bucket: stack.bucket,
      prefix: stack.bucket,
      coordination,
      counterTimeout: QUEUE_COUNTER_TIMEOUT_SECONDS,
      chunkSize: '64KiB',
      concurrency: '4',
      notify: false,
      schedule: false,
      environment: { WORDCOUNT_HEARTBEAT_SECONDS: '5' },
    });
  }
  project.provide('endpoint', endpoint);
  return async () => {
    if (!alreadyRunning) await stopEmulator({ log: quiet });
  };
}
