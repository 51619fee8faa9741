/**
 * The cost section: what jobs cost, as the summaries the stack on MiniStack publishes
 * report it (lib/cost): invocations, GB-seconds (each function's measured time × its
 * configured memory), S3 requests by type, SQS requests, and the estimate in USD at
 * us-east-1 arm64 list prices. Three inputs, each with RPC and with queue coordination:
 * prose (the King James Bible repeated to 64 MiB), 5 million distinct words (the
 * emulator section's 49 MB object: the partitioned reduce), and a corpus of 200 small
 * objects named by a manifest. Requests and invocations are what AWS would count; the
 * GB-seconds are this machine's, whose cores are not Lambda's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startEmulator, stopEmulator } from '../emulator.mjs';
import { deployStack, localClients } from '../local-stack.js';
import { bibleText, ensureFile, ensureRepeated } from './data.mjs';
import { DISTINCT, waitForObject, writeDistinct } from './emulator.mjs';
import { log, MiB, markdownTable, median } from './measure.mjs';

/** The inputs: each uploads itself under `tag` and returns the key whose summary to wait for. */
function inputs(dataDir, root) {
  const bible = bibleText();
  const prose = join(dataDir, 'kjv-64m.txt');
  ensureRepeated(prose, bible, 64 * MiB, root);
  const distinct = join(dataDir, `distinct-${DISTINCT / 1e6}m.txt`);
  ensureFile(distinct, undefined, writeDistinct, root);
  // 200 objects of about 22 KB: slices of the Bible, packed into map tasks.
  const objects = Array.from({ length: 200 }, (_, i) =>
    bible.subarray(i * 22_000, (i + 1) * 22_000),
  );
  return [
    {
      name: 'prose, 64 MiB (KJV ×16)',
      bytes: readFileSync(prose).length,
      upload: async (s3, bucket, tag) => {
        const key = `input/${tag}/kjv.txt`;
        await s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(prose) }),
        );
        return `output/${tag}/kjv.txt.json`;
      },
    },
    {
      name: `${DISTINCT / 1e6}M distinct words, 49 MB`,
      bytes: readFileSync(distinct).length,
      upload: async (s3, bucket, tag) => {
        const key = `input/${tag}/distinct.txt`;
        await s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(distinct) }),
        );
        return `output/${tag}/distinct.txt.json`;
      },
    },
    {
      name: '200 objects of 22 KB (a manifest)',
      bytes: objects.reduce((n, o) => n + o.length, 0),
      upload: async (s3, bucket, tag) => {
        for (const [i, body] of objects.entries()) {
          const Key = `corpus/${tag}/part-${String(i).padStart(3, '0')}.txt`;
          await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: body }));
        }
        const key = `input/${tag}/corpus.manifest.json`;
        const manifest = JSON.stringify({ prefix: `corpus/${tag}/` });
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: manifest }));
        return `output/${tag}/corpus.manifest.json.json`;
      },
    },
  ];
}

const s3Types = (s3) =>
  [
    `${s3.get} GET`,
    `${s3.head} HEAD`,
    `${s3.list} LIST`,
    `${s3.put} PUT`,
    s3.multipart + s3.parts > 0 ? `${s3.multipart} MPU + ${s3.parts} parts` : '',
    `${s3.delete} DELETE`,
  ]
    .filter(Boolean)
    .join(', ');

export async function costSection({ root, dataDir, runs }) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const cases = inputs(dataDir, root);
  const { endpoint, alreadyRunning } = await startEmulator({ log });
  const { s3 } = localClients({ endpoint });
  const stacks = ['rpc', 'queue'].map((coordination) => ({
    coordination,
    bucket: `wordcount-cost-${coordination}`,
  }));
  const rows = [];
  try {
    for (const stack of stacks) {
      log(`cost: deploying the ${stack.coordination} stack`);
      await deployStack({
        endpoint,
        bucket: stack.bucket,
        prefix: stack.bucket,
        chunkSize: '16MiB',
        concurrency: '8',
        coordination: stack.coordination,
      });
    }
    for (const input of cases) {
      for (const stack of stacks) {
        const summaries = [];
        for (let run = 1; run <= runs; run++) {
          const tag = `cost-${Date.now()}-${run}`;
          const summaryKey = await input.upload(s3, stack.bucket, tag);
          summaries.push(await waitForObject(s3, stack.bucket, summaryKey, 600_000));
          log(
            `  [run ${run}/${runs}] ${input.name}, ${stack.coordination}: $${summaries.at(-1).cost.usd.total}`,
          );
        }
        // The run of median cost: requests and invocations are the same in every run.
        const byCost = [...summaries].sort((a, b) => a.cost.usd.total - b.cost.usd.total);
        const summary = byCost[Math.floor((byCost.length - 1) / 2)];
        const { cost } = summary;
        const invocations = Object.values(cost.functions).reduce((n, f) => n + f.invocations, 0);
        rows.push([
          input.name,
          stack.coordination,
          `${summary.stats.mapTasks} + ${summary.stats.reduceTasks}`,
          String(invocations),
          median(summaries.map((s) => s.cost.gbSeconds)).toFixed(1),
          s3Types(cost.requests.s3),
          String(cost.requests.sqs),
          `$${cost.usd.total.toFixed(6)}`,
          `$${((cost.usd.total / input.bytes) * 1e9).toFixed(5)}`,
        ]);
      }
    }
  } finally {
    if (!alreadyRunning) await stopEmulator({ log });
  }
  return {
    lines: [
      `## Cost: what the published summaries report, on MiniStack (16MiB chunks, 8 counters; counter 1769 MB, orchestrator 3008 MB), median of ${runs} run(s)`,
      '',
      markdownTable(
        [
          'input',
          'coordination',
          'map + reduce tasks',
          'invocations',
          'GB-s',
          'S3 requests',
          'SQS',
          'USD (us-east-1 arm64)',
          'USD per GB',
        ],
        rows,
        ['l', 'l', 'r', 'r', 'r', 'l', 'r', 'r', 'r'],
      ),
      '',
      'Invocations and requests are what AWS would count for the same jobs; GB-seconds are measured on this machine, whose two shared cores are not a Lambda vCPU each, so the compute line is an estimate of the order.',
      '',
    ],
    checks: [],
  };
}
