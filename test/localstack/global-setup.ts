import type { TestProject } from 'vitest/node';
import { startLocalStack } from '../../scripts/localstack.js';

declare module 'vitest' {
  export interface ProvidedContext {
    localstack: string;
  }
}

/** Starts LocalStack's S3 and SQS in-process (installing them the first time), stops them after. */
export default async function setup(project: TestProject) {
  const running = await startLocalStack(() => {});
  project.provide('localstack', running.endpoint);
  return () => running.stop();
}
