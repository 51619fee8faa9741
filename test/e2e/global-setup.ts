import type { TestProject } from 'vitest/node';
import { startEmulator, stopEmulator } from '../../scripts/emulator.mjs';
import { deployStack } from '../../scripts/local-stack.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    endpoint: string;
  }
}

/** Starts the emulator unless it runs already, deploys both stacks, stops what it started. */
export default async function setup(project: TestProject) {
  const quiet = () => {};
  const { endpoint, alreadyRunning } = await startEmulator({ log: quiet });
  // A short heartbeat, so a killed orchestrator's claim goes stale in 10 s, not a minute.
  await deployStack({
    endpoint,
    chunkSize: '64KiB',
    concurrency: '8',
    environment: { WORDCOUNT_HEARTBEAT_SECONDS: '5' },
  });
  // A deliberately failing counter and an orchestrator pointed at it; no trigger.
  await deployStack({
    endpoint,
    prefix: 'wordcount-failing',
    counterEntry: 'test/fixtures/failing-counter.mjs',
    notify: false,
  });
  project.provide('endpoint', endpoint);
  return async () => {
    if (!alreadyRunning) await stopEmulator({ log: quiet });
  };
}
