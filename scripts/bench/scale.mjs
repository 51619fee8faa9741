/**
 * The scale section (issue 19): the queue coordination run in this process at 1,000,
 * 10,000 and 100,000 map tasks over a simulated S3 and SQS (scale-run.mjs), for the
 * requests per task, the peak memory of the steps that start phases and publish, and
 * the simulated wall time; and the version check of a million-key manifest, as a
 * publish makes it. The figures must grow linearly: requests per task bounded, the
 * map→publish step's memory under 512 MiB at 100,000 tasks, every step within the
 * counter's timeout.
 *
 *   --sizes 1000,10000           the job sizes (map tasks); default 1000,10000,100000
 *   BENCH_SCALE_COUNTERS=64      handlers at once (the queue mapping's maximum concurrency)
 *   BENCH_SCALE_LATENCY_MS=15-30 each S3 and SQS request's latency, uniform in the range
 *   BENCH_SCALE_MANIFEST_KEYS=N  the manifest's keys (default 1,000,000; 0 skips it)
 */
import { log, markdownTable } from './measure.mjs';
import { S3_TYPES } from './scale-store.mjs';

export const DEFAULT_SIZES = [1000, 10_000, 100_000];
const TIMEOUT_SECONDS = 300;
const MEMORY_TARGET_MIB = 512;

function envInteger(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text)) throw new Error(`${name} must be a whole number, got '${text}'`);
  return Number(text);
}

const n = (value) => value.toLocaleString('en-US');
const within = (seconds) => (seconds <= TIMEOUT_SECONDS ? `${seconds}` : `**${seconds}**`);

function mainTable(rows) {
  return markdownTable(
    [
      'map tasks',
      'S3 req/task',
      'SQS req/task',
      'S3 req/map task',
      'start: S3 req, sim s, peak (heap) MiB',
      'map→publish step: S3 req, sim s, peak (heap) MiB',
      'job, sim s',
      'simulator s',
    ],
    rows.map((r) => [
      n(r.tasks),
      r.s3RequestsPerTask.toFixed(2),
      r.sqsRequestsPerTask.toFixed(2),
      r.mapTaskS3PerTask.toFixed(2),
      `${n(r.start.s3Requests)}, ${r.start.seconds}, ${r.start.peakMiB} (${r.start.heapMiB})`,
      `${n(r.phase.s3Requests)}, ${within(r.phase.seconds)}, ${r.peakPhaseMiB} (${r.phase.heapMiB})`,
      String(r.seconds),
      String(r.simulatorSeconds),
    ]),
    ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

function byTypeTable(rows) {
  const s3Types = S3_TYPES.filter((t) => rows.some((r) => r.s3ByTypePerTask[t] > 0));
  const sqsTypes = Object.keys(rows[0].sqsByTypePerTask);
  return markdownTable(
    ['map tasks', ...s3Types, ...sqsTypes.map((t) => `SQS ${t}`)],
    rows.map((r) => [
      n(r.tasks),
      ...s3Types.map((t) => r.s3ByTypePerTask[t].toFixed(3)),
      ...sqsTypes.map((t) => r.sqsByTypePerTask[t].toFixed(3)),
    ]),
    ['r', ...s3Types.map(() => 'r'), ...sqsTypes.map(() => 'r')],
  );
}

function targetsOf(rows, manifest) {
  const targets = [];
  const [first, last] = [rows[0], rows.at(-1)];
  if (rows.length > 1) {
    const growth = last.s3RequestsPerTask / first.s3RequestsPerTask;
    targets.push(
      `- ${growth <= 1.1 ? 'ok' : '**MISSED**'}: S3 requests per task bounded: ${first.s3RequestsPerTask} at ${n(first.tasks)} tasks, ${last.s3RequestsPerTask} at ${n(last.tasks)} (×${growth.toFixed(2)})`,
    );
  }
  const big = rows.find((r) => r.tasks === 100_000);
  targets.push(
    big
      ? `- ${big.peakPhaseMiB < MEMORY_TARGET_MIB ? 'ok' : '**MISSED**'}: the map→publish step at 100,000 tasks peaks at ${big.peakPhaseMiB} MiB (target < ${MEMORY_TARGET_MIB})`
      : `- not run: the map→publish step's peak at 100,000 tasks (target < ${MEMORY_TARGET_MIB} MiB; --sizes …,100000)`,
  );
  for (const r of rows) {
    const ok = r.phase.seconds <= TIMEOUT_SECONDS;
    targets.push(
      `- ${ok ? 'ok' : '**MISSED**'}: the map→publish step at ${n(r.tasks)} tasks takes ${r.phase.seconds} simulated s (the counter's timeout: ${TIMEOUT_SECONDS} s)`,
    );
  }
  if (manifest) {
    targets.push(
      `- ${manifest.seconds <= TIMEOUT_SECONDS ? 'ok' : '**MISSED**'}: the version of a ${n(manifest.keys)}-key manifest is read in ${manifest.seconds} simulated s (${n(manifest.requests)} requests; within ${TIMEOUT_SECONDS} s)`,
    );
  }
  return targets;
}

/** The section: `{ lines, checks, targets, rows }`; `rows` is what `--json` prints. */
export async function scaleSection({ sizes = DEFAULT_SIZES }) {
  const { latencyOf } = await import('./scale-clock.mjs');
  const { simulateManifest, simulateScale } = await import('./scale-run.mjs');
  const counters = envInteger('BENCH_SCALE_COUNTERS', 64);
  const manifestKeys = envInteger('BENCH_SCALE_MANIFEST_KEYS', 1_000_000);
  const latencySpec = process.env.BENCH_SCALE_LATENCY_MS || '15-30';
  const rows = [];
  for (const tasks of sizes) {
    log(`scale: ${n(tasks)} map tasks, ${counters} counters, ${latencySpec} ms per request`);
    rows.push(await simulateScale({ tasks, counters, latency: latencyOf(latencySpec), log }));
  }
  let manifest;
  if (manifestKeys > 0) {
    log(`scale: the version of a ${n(manifestKeys)}-key manifest`);
    manifest = await simulateManifest({ keys: manifestKeys, latency: latencyOf(latencySpec) });
    log(
      `scale: the manifest's version took ${n(manifest.requests)} requests, ${manifest.seconds} simulated s`,
    );
  }
  const lines = [
    `## Scale: the queue coordination in-process over a simulated S3 and SQS (${counters} counters, ${latencySpec} ms per request)`,
    '',
    mainTable(rows),
    '',
    `Each map task counts one synthetic object of 33,000 bytes (one word of its own, the rest shared), so every result is inline and the job publishes after the map phase. Requests are every S3 and SQS request of the job (start, map tasks, the map→publish step with its clean-up) divided by its map tasks; "S3 req/map task" counts the map tasks' handlers alone. Simulated seconds are what the requests' latencies add up to with ${counters} handlers at once (CPU time not included): the job's from its start to its publisher's end; the step's from its message's receipt to its end, bold when over the counter's ${TIMEOUT_SECONDS} s timeout (the simulation does not stop it). Peak MiB: the step re-run alone in a child node process over a copy of the bucket as it was (served over IPC, as S3 would be), its process.resourceUsage().maxRSS, the node runtime included (its RSS before the step: about ${rows[0].phase.baselineMiB} MiB); in brackets the largest JS heap and buffers sampled every 20 ms, the part of the peak that was allocated rather than garbage not yet collected. Simulator s: this machine's real time for the whole simulated job.`,
    '',
    'Requests by type, per map task (CPUT: PUT with If-None-Match or If-Match; MPU: multipart create and complete):',
    '',
    byTypeTable(rows),
    '',
  ];
  if (manifest) {
    lines.push(
      `A manifest naming ${n(manifest.keys)} keys: its version (currentVersion, as a publish checks it) took ${n(manifest.requests)} requests (${Object.entries(
        manifest.byType,
      )
        .map(([t, c]) => `${n(c)} ${t}`)
        .join(
          ', ',
        )}) and ${manifest.seconds} simulated s (simulator ${manifest.simulatorSeconds} s).`,
      '',
    );
  }
  const checks = rows.map((r) => ({
    label: `scale ${n(r.tasks)}: distinct words published`,
    actual: r.counted.distinct,
    want: r.counted.want.distinct,
    fatal: true,
  }));
  return { lines, checks, targets: targetsOf(rows, manifest), rows, manifest };
}
