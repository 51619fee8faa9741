#!/usr/bin/env node
/**
 * Deploys the stack to the local emulator (MiniStack from `npm run emulator:start`, or
 * LocalStack from docker-compose.yml). A real AWS deploy is `sst deploy`, not this.
 *
 *   npm run deploy:local -- [--coordination queue|rpc] [--chunk-size SIZE] [--bucket NAME]
 *                          [--prefix NAME] [--endpoint URL]
 *
 * Queue coordination (the default, as in sst.config.ts) adds the task queue, its
 * dead-letter queue and their consumers; rpc leaves the orchestrator to drive each job.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CHUNK_SIZE, INPUT_PREFIX } from '../lib/topology.js';
import { httpStatus } from './emulator.mjs';
import { ROOT } from './local-aws.js';
import {
  COORDINATIONS,
  type Coordination,
  DEFAULT_BUCKET,
  DEFAULT_PREFIX,
  deployStack,
  localConfig,
} from './local-stack.js';

const USAGE =
  'usage: npm run deploy:local -- [--coordination queue|rpc] [--chunk-size SIZE] [--bucket NAME] [--prefix NAME] [--endpoint URL]';

const OPTIONS = {
  coordination: { type: 'string', default: 'queue' },
  'chunk-size': { type: 'string', default: DEFAULT_CHUNK_SIZE },
  bucket: { type: 'string', default: DEFAULT_BUCKET },
  prefix: { type: 'string', default: DEFAULT_PREFIX },
  endpoint: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function main(): Promise<number> {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];
  try {
    ({ values } = parseArgs({ options: OPTIONS }));
  } catch (error) {
    console.error(`deploy-local: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const coordination = values.coordination as Coordination;
  if (!COORDINATIONS.includes(coordination)) {
    console.error(
      `deploy-local: --coordination must be queue or rpc, got '${values.coordination}'\n${USAGE}`,
    );
    return 2;
  }

  const { endpoint, region } = localConfig({ endpoint: values.endpoint });
  if ((await httpStatus(endpoint, 3000)) === undefined) {
    console.error(
      `deploy-local: no emulator answers at ${endpoint}; start it with npm run emulator:start`,
    );
    return 1;
  }
  for (const entry of ['functions/counter.ts', 'functions/orchestrator.ts']) {
    if (!fs.existsSync(path.join(ROOT, entry))) {
      console.error(`deploy-local: ${entry} is missing`);
      return 1;
    }
  }

  const { bucket } = values;
  const result = await deployStack({
    endpoint,
    region,
    bucket,
    prefix: values.prefix,
    chunkSize: values['chunk-size'],
    coordination,
    log: (line) => console.log(`  ${line}`),
  });
  console.log(
    `deployed to ${endpoint} in ${(result.elapsedMs / 1000).toFixed(1)} s (${result.coordination} coordination)`,
  );

  const aws = `aws --endpoint-url ${endpoint} --region ${region}`;
  const creds = process.env.AWS_ACCESS_KEY_ID
    ? ''
    : 'AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test ';
  console.log(`
next:
  ${creds}${aws} s3 cp samples/kjv-genesis.txt s3://${bucket}/${INPUT_PREFIX}kjv-genesis.txt
  results appear as s3://${bucket}/output/kjv-genesis.txt.json (summary, written last)
              and s3://${bucket}/output/kjv-genesis.txt.counts.tsv
  ${creds}${aws} s3 cp s3://${bucket}/output/kjv-genesis.txt.json -
  logs: .emulator/ministack.log (MiniStack) or ${aws} logs tail /aws/lambda/${result.orchestrator.name}`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    console.error(
      `deploy-local: ${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`,
    );
    process.exitCode = 1;
  },
);
