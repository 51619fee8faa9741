/**
 * The emulator section: a 49 MB object of 5 million distinct words uploaded to the
 * stack on MiniStack, timed from the upload to the published summary, with RPC and with
 * queue coordination, in the same run. "Last counter → published" is the reduce and
 * publish phases, from the summary's phase timings.
 */
import { readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { startEmulator, stopEmulator } from '../emulator.mjs';
import { deployStack, localClients } from '../local-stack.js';
import { ensureFile } from './data.mjs';
import { log, markdownTable, median } from './measure.mjs';

export const DISTINCT = 5_000_000;
const FREQUENT = 'the and of to that in he shall unto for'.split(' ');
const TARGET_SECONDS = 47;

export function writeDistinct(fd) {
  const buf = Buffer.allocUnsafe(1 << 22);
  let o = 0;
  const flush = () => {
    let off = 0;
    while (off < o) off += writeSync(fd, buf, off, o - off);
    o = 0;
  };
  for (let i = 0; i < DISTINCT; i++) {
    o += buf.write(`w${(Math.imul(i ^ 1, 0x9e3779b1) >>> 0).toString(36)}`, o, 'latin1');
    buf[o++] = i % 12 === 11 ? 10 : 32;
    if (i % 3 === 0) {
      o += buf.write(`${FREQUENT[i % FREQUENT.length]} `, o, 'latin1');
    }
    if (o > buf.length - 64) flush();
  }
  flush();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The JSON object at s3://bucket/key once it appears (a published summary). */
export async function waitForObject(s3, bucket, key, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return JSON.parse(await out.Body.transformToString());
    } catch (error) {
      if (error?.name !== 'NoSuchKey') throw error;
    }
    if (Date.now() > deadline)
      throw new Error(`s3://${bucket}/${key} did not appear in ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function lastModified(s3, bucket, prefix, filter) {
  let latest = 0;
  let token;
  do {
    const out = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of out.Contents ?? []) {
      if (filter(o.Key)) latest = Math.max(latest, o.LastModified.getTime());
    }
    token = out.NextContinuationToken;
  } while (token);
  return latest;
}

export async function emulatorSection({ root, dataDir, runs }) {
  // The SDK's notice that releases after early 2027 need Node 22: the lockfile pins it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const file = join(dataDir, `distinct-${DISTINCT / 1e6}m.txt`);
  const bytes = ensureFile(file, undefined, writeDistinct, root);
  const body = readFileSync(file);
  const { endpoint, alreadyRunning } = await startEmulator({ log });
  const { s3 } = localClients({ endpoint });
  try {
    const stacks = [
      { name: 'rpc', bucket: 'wordcount-bench', coordination: 'rpc' },
      { name: 'queue', bucket: 'wordcount-bench-queue', coordination: 'queue' },
    ];
    for (const stack of stacks) {
      log(`emulator: deploying ${stack.name}`);
      await deployStack({
        endpoint,
        bucket: stack.bucket,
        prefix: stack.bucket,
        chunkSize: '16MiB',
        concurrency: '8',
        coordination: stack.coordination,
      });
    }
    const samples = stacks.map(() => []);
    for (let run = 1; run <= runs; run++) {
      for (const [i, stack] of stacks.entries()) {
        const key = `input/bench-${Date.now()}-${run}.txt`;
        await s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: body }));
        const uploaded = (
          await s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }))
        ).LastModified.getTime();
        const summaryKey = `output/${key.slice('input/'.length)}.json`;
        const summary = await waitForObject(s3, stack.bucket, summaryKey, 600_000);
        const published = await lastModified(s3, stack.bucket, summaryKey, () => true);
        const tail = (summary.stats.phasesMs.reduce + summary.stats.phasesMs.publish) / 1000;
        const sample = {
          fromUpload: (published - uploaded) / 1000,
          tail,
          reduceTasks: summary.stats.reduceTasks ?? 0,
          distinct: summary.distinctWords,
          maxRssMiB: summary.stats.maxRssBytes / 2 ** 20,
        };
        samples[i].push(sample);
        log(
          `  [run ${run}/${runs}] ${stack.name}: ${sample.fromUpload.toFixed(1)} s from upload, ${sample.tail.toFixed(1)} s from the last counter`,
        );
      }
    }
    const rows = stacks.map((stack, i) => [
      stack.name,
      median(samples[i].map((s) => s.fromUpload)).toFixed(1),
      median(samples[i].map((s) => s.tail)).toFixed(1),
      String(samples[i][0].reduceTasks),
      samples[i][0].maxRssMiB.toFixed(0),
    ]);
    const after = median(samples[0].map((s) => s.fromUpload));
    const afterTasks = samples[0][0].reduceTasks;
    const queued = median(samples[1].map((s) => s.fromUpload));
    return {
      lines: [
        `## Emulator: a ${(bytes / 1e6).toFixed(1)} MB object of ${DISTINCT.toLocaleString('en-US')} distinct words, upload to published summary on MiniStack (16MiB chunks, 8 counters), median of ${runs} run(s)`,
        '',
        markdownTable(
          [
            'coordination',
            'upload → published s',
            'last counter → published s',
            'reduce tasks',
            'job peak RSS MiB',
          ],
          rows,
          ['l', 'r', 'r', 'r', 'r'],
        ),
        '',
        "With queue coordination the job's phases run in the counters: its peak is the biggest counter's.",
        '',
      ],
      checks: stacks.map((stack, i) => ({
        label: `emulator ${stack.name}: distinct words = ${DISTINCT + FREQUENT.length}`,
        actual: samples[i][0].distinct,
        want: DISTINCT + FREQUENT.length,
        fatal: true,
      })),
      targets: [
        `- emulator, 5M distinct words: reduce tasks >= 4: ${afterTasks}, ${afterTasks >= 4 ? 'met' : '**NOT MET**'}; published under ${TARGET_SECONDS} s from upload: ${after.toFixed(1)} s, ${after < TARGET_SECONDS ? 'met' : '**NOT MET**'}`,
        `- emulator, queue coordination against rpc on the same job: ${queued.toFixed(1)} s vs ${after.toFixed(1)} s (${(queued / after).toFixed(2)}x)`,
      ],
    };
  } finally {
    s3.destroy();
    if (!alreadyRunning) await stopEmulator({ log });
  }
}
