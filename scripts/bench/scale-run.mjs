/**
 * One run of the scale simulation: the queue coordination in this process, through its
 * entry points (startQueuedJob, handleQueueMessage, handleDeadLetter), over a simulated
 * S3 and SQS on a simulated clock (scale-clock.mjs, scale-store.mjs, scale-queue.mjs).
 *
 * The job counts N synthetic objects of 33,000 bytes with a requested chunk size of
 * 64 KiB (the smallest a request may ask): more than half a chunk each, so every object
 * is a map task of its own. Each holds a few hundred words of a shared phrase and one
 * word of its own, so map results are small and inline and the job publishes straight
 * after the map phase, its N + 18 distinct words in one counts file.
 *
 * The last map task's message is held back until every other task committed, then run
 * alone: what it does (commit, see the phase complete, merge, publish, clean up) is timed
 * on the simulated clock, and run again in a child process over a copy of the bucket as
 * it was, for that step's peak RSS. The start is re-run in a child the same way.
 */
import { fork } from 'node:child_process';
import { RequestMeter } from '../../dist/lib/cost/request-meter.js';
import { handleDeadLetter, MAX_RUNS } from '../../dist/lib/job/queue/ending.js';
import { startQueuedJob } from '../../dist/lib/job/queue/start.js';
import { handleQueueMessage } from '../../dist/lib/job/queue/task-messages.js';
import { currentVersion } from '../../dist/lib/job/request/inputs.js';
import { outputKeys, statusKey } from '../../dist/lib/keys.js';
import { COUNTER, visibilitySeconds } from '../../dist/lib/topology.js';
import { VirtualClock } from './scale-clock.mjs';
import { SimulatedSqs } from './scale-queue.mjs';
import { driverDeps, serveStore } from './scale-remote.mjs';
import { MemoryBucket, SimulatedS3 } from './scale-store.mjs';

const MiB = 1024 * 1024;
export const OBJECT_BYTES = 33_000;
const CHUNK_SIZE = '64KiB';
const PHRASE =
  'the quick brown fox jumps over the lazy dog while five boxing wizards judge ' +
  'my big sphinx of quartz\n';

/** N objects that share a phrase, each with a word of its own; bytes made when read. */
function syntheticCorpus() {
  const header = (i) => `w${String(i).padStart(7, '0')}\n`;
  const headerBytes = header(0).length;
  const phrases = PHRASE.repeat(8);
  let filler = phrases;
  while (filler.length < OBJECT_BYTES - headerBytes) filler += `${' '.repeat(79)}\n`;
  const body = Buffer.from(`${filler.slice(0, OBJECT_BYTES - headerBytes - 1)}\n`);
  const words = phrases.split(/\s+/).filter(Boolean);
  return {
    name: 'corpus',
    size: () => OBJECT_BYTES,
    read(i, start, end) {
      const whole = Buffer.concat([Buffer.from(header(i)), body]);
      return whole.subarray(start, end);
    },
    wordsPerObject: 1 + words.length,
    sharedDistinct: new Set(words).size,
  };
}

const sum = (counts) => Object.values(counts).reduce((a, b) => a + b, 0);
const perTask = (counts, n) =>
  Object.fromEntries(Object.entries(counts).map(([t, c]) => [t, Number((c / n).toFixed(3))]));
const addCounts = (...all) => {
  const out = {};
  for (const counts of all) for (const [t, c] of Object.entries(counts)) out[t] = (out[t] ?? 0) + c;
  return out;
};

/** Runs `mode` in a child over `bucket` (served without latency); its peak RSS and requests. */
async function stepInChild(mode, bucket, counters, payload) {
  const server = new SimulatedS3(bucket);
  const sqs = { SendMessageBatch: 0 };
  const child = fork(new URL('./scale-child.mjs', import.meta.url), [], {
    serialization: 'advanced',
    execArgv: [],
    stdio: ['ignore', 2, 2, 'ipc'],
  });
  serveStore(child, server, sqs);
  const answered = new Promise((resolve, reject) => {
    child.on('message', (m) => m.done && resolve(m));
    child.on('exit', (code) => reject(new Error(`the ${mode} child exited with ${code}`)));
  });
  child.send({ mode, bucket: bucket.name, counters, ...payload });
  const result = await answered;
  if (result.error) throw new Error(`the ${mode} step failed in its child: ${result.error}`);
  return {
    peakMiB: result.peakBytes / MiB,
    heapMiB: result.heapBytes / MiB,
    baselineMiB: result.baselineBytes / MiB,
    s3: server.counts,
    sqs,
  };
}

/**
 * The job of `tasks` map tasks with `counters` handlers at once and `latency()` ms per
 * request: a row of the table (see scale.mjs for its fields), or throws when the job did
 * not publish the right counts.
 */
export async function simulateScale({ tasks, counters, latency, log }) {
  const clock = new VirtualClock();
  const epoch = Date.now();
  const now = () => new Date(epoch + clock.ms);
  const bucket = new MemoryBucket('wordcount-scale', now);
  const corpus = syntheticCorpus();
  for (let i = 0; i < tasks; i++) {
    bucket.putSynthetic(`corpus/doc-${String(i).padStart(7, '0')}.txt`, corpus, i);
  }
  const meter = new RequestMeter();
  const storeOf = () => new SimulatedS3(bucket, { clock, latency, meter });
  const stores = { start: storeOf(), tasks: storeOf(), step: storeOf() };
  let held;
  const handlers = {};
  const sqs = new SimulatedSqs({
    clock,
    latency,
    counters,
    visibilityMs: visibilitySeconds(COUNTER.timeoutSeconds) * 1000,
    maxReceives: MAX_RUNS,
    log,
    hold: (body, id) => {
      if (held || body.phase !== 'map' || body.index !== tasks - 1) return false;
      held = { body, id };
      return true;
    },
    handle: async (body, id, receives) => {
      if (id !== held?.id) return handleQueueMessage(handlers.tasks, body, id, receives);
      held.startedMs ??= clock.ms;
      await handleQueueMessage(handlers.step, body, id, receives);
      held.endedMs = clock.ms;
    },
    deadLetter: (body, id) => handleDeadLetter(handlers.tasks, body, id),
  });
  for (const actor of Object.keys(stores)) {
    handlers[actor] = driverDeps({ store: stores[actor], queue: sqs, counters, now, meter });
  }
  const request = { input: { kind: 'prefix', prefix: 'corpus/' }, chunkSize: CHUNK_SIZE };
  const beforeStart = bucket.snapshot();
  const progress = setInterval(
    () =>
      log(
        `  scale ${tasks}: ${sqs.handled} messages handled, ${(clock.ms / 1000).toFixed(0)} simulated s`,
      ),
    10_000,
  ).unref();
  const realStart = performance.now();
  const started = await startQueuedJob(handlers.start, request, 'scale-orchestrator');
  const startMs = clock.ms;
  if (started.outcome !== 'queued' || started.tasks !== tasks) {
    throw new Error(
      `scale ${tasks}: the start planned ${started.tasks} task(s): ${started.outcome}`,
    );
  }
  await sqs.idle();
  if (!held) throw new Error(`scale ${tasks}: the last map task's message was never sent`);
  const beforeStep = bucket.snapshot();
  sqs.release();
  await sqs.idle();
  const simulatorSeconds = (performance.now() - realStart) / 1000;
  clearInterval(progress);

  const output = outputKeys(request.input);
  const readJson = (key) => JSON.parse(Buffer.from(bucket.bytes(bucket.entry(key))).toString());
  const summary = readJson(output.summary);
  const status = readJson(statusKey(started.jobId));
  const want = { words: tasks * corpus.wordsPerObject, distinct: tasks + corpus.sharedDistinct };
  if (status.state !== 'succeeded' || summary.totalWords !== want.words) {
    throw new Error(
      `scale ${tasks}: the job ended ${status.state} with ${summary.totalWords} words, not ${want.words}`,
    );
  }
  log(
    `  scale ${tasks}: published in ${(held.endedMs / 1000).toFixed(1)} simulated s; re-running its steps in child processes`,
  );
  const startChild = await stepInChild('start', beforeStart, counters, { request });
  const stepChild = await stepInChild('message', beforeStep, counters, {
    body: held.body,
    messageId: held.id,
  });
  const s3 = addCounts(stores.start.counts, stores.tasks.counts, stores.step.counts);
  return {
    tasks,
    s3RequestsPerTask: Number((sum(s3) / tasks).toFixed(3)),
    sqsRequestsPerTask: Number((sum(sqs.counts) / tasks).toFixed(3)),
    peakPhaseMiB: Math.round(stepChild.peakMiB),
    seconds: Number((held.endedMs / 1000).toFixed(1)),
    s3ByTypePerTask: perTask(s3, tasks),
    sqsByTypePerTask: perTask(sqs.counts, tasks),
    mapTaskS3PerTask: Number((sum(stores.tasks.counts) / (tasks - 1)).toFixed(3)),
    start: {
      s3Requests: sum(stores.start.counts),
      seconds: Number((startMs / 1000).toFixed(1)),
      peakMiB: Math.round(startChild.peakMiB),
      heapMiB: Math.round(startChild.heapMiB),
    },
    phase: {
      s3Requests: sum(stores.step.counts),
      s3ByType: stores.step.counts,
      seconds: Number(((held.endedMs - held.startedMs) / 1000).toFixed(1)),
      peakMiB: Math.round(stepChild.peakMiB),
      heapMiB: Math.round(stepChild.heapMiB),
      baselineMiB: Math.round(stepChild.baselineMiB),
      childS3Requests: sum(stepChild.s3),
    },
    counted: { words: summary.totalWords, distinct: summary.distinctWords, want },
    simulatorSeconds: Number(simulatorSeconds.toFixed(1)),
  };
}

/**
 * The input version of a manifest naming `keys` objects, as a publish checks it
 * (currentVersion): its requests by type and simulated seconds.
 */
export async function simulateManifest({ keys, latency }) {
  const clock = new VirtualClock();
  const epoch = Date.now();
  const bucket = new MemoryBucket('wordcount-scale', () => new Date(epoch + clock.ms));
  const objects = { name: 'crawl', size: () => 2048, read: () => new Uint8Array(0) };
  const names = Array.from(
    { length: keys },
    (_, i) => `crawl/part-${String(i).padStart(7, '0')}.txt`,
  );
  for (const [i, key] of names.entries()) bucket.putSynthetic(key, objects, i);
  const manifest = 'input/crawl.manifest.json';
  bucket.write(manifest, Buffer.from(JSON.stringify({ keys: names })));
  names.length = 0;
  const store = new SimulatedS3(bucket, { clock, latency });
  const realStart = performance.now();
  await currentVersion(store, { kind: 'key', key: manifest });
  return {
    keys,
    requests: sum(store.counts),
    byType: Object.fromEntries(Object.entries(store.counts).filter(([, c]) => c > 0)),
    seconds: Number((clock.ms / 1000).toFixed(1)),
    simulatorSeconds: Number(((performance.now() - realStart) / 1000).toFixed(1)),
  };
}
