import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The SDK's notice that releases after early 2027 need Node 22: the lockfile pins it.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 120_000,
    hookTimeout: 300_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'local',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
        },
      },
      {
        // The adapters' contracts on LocalStack's S3 and SQS, run in-process.
        extends: true,
        test: {
          name: 'localstack',
          include: ['test/localstack/**/*.test.ts'],
          globalSetup: ['test/localstack/global-setup.ts'],
        },
      },
      {
        // The whole AWS flow on the emulator, which the global setup starts (if it is
        // not running) and deploys to.
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          fileParallelism: false,
        },
      },
    ],
  },
});
