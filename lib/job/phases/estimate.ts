/**
 * What a planned job would take and cost on AWS, before anything is read: each map task's
 * time from its bytes and the measured speed of what it reads, the reduce and finalize
 * phases the phases would choose for the vocabulary Heaps' law expects, the wall time at
 * a width under each coordination's scaling ramp, and the bill from the requests each
 * phase makes (README, What a job costs) at a price table. Pure.
 */
import type { Coordination, CoordinationEstimate } from '../../contracts/plan.js';
import { costOf } from '../../cost/job-cost.js';
import type { Prices } from '../../cost/prices.js';
import { phaseEnd, queueSlots, rpcSlots } from '../../cost/ramp.js';
import {
  type ContentKind,
  distinctWords,
  HEAPS,
  INLINE_WORD_BYTES,
  LINE_BYTES,
  LIST_PAGE_SECONDS,
  MERGE_MB_PER_SECOND,
  QUEUE_HOP_SECONDS,
  QUEUE_TASK_REQUESTS,
  REDUCE_FETCH_CONCURRENCY,
  readRate,
  S3_REQUEST_SECONDS,
  TASK_START_SECONDS,
} from '../../cost/rates.js';
import { chooseReduceTasks } from '../../reduce/partition.js';
import type { Mode } from '../../tokenize.js';
import { COUNTER, ORCHESTRATOR } from '../../topology.js';
import { FINALIZE_MIN_BYTES } from '../tasks/finalize-task.js';
import { jobRequests, readsPerReduce } from './estimate-requests.js';
import { INLINE_MAX_DISTINCT, INLINE_RESULT_LIMIT_BYTES } from './map-results.js';

export interface EstimateTask {
  /** Names the task in a warning: its first object. */
  label: string;
  slices: readonly { bytes: number; kind: ContentKind; whole: boolean }[];
}

export interface EstimateInput {
  mode: Mode;
  tasks: readonly EstimateTask[];
  partitions: number;
  objects: number;
  /** How the input resolves: a LIST page per 1,000 keys, or a HEAD per key. */
  listing: 'prefix' | 'keys';
  /** Objects the planner reads the first bytes of (those over the chunk size). */
  peeks: number;
  width: number;
  coordinations: readonly Coordination[];
  prices: Prices;
}

export interface JobEstimate {
  textBytes: number;
  words: number;
  distinctWords: number;
  mapOutputBytes: number;
  longestTaskSeconds: number;
  reduceTasks: number;
  finalizeTasks: number;
  coordinations: Partial<Record<Coordination, CoordinationEstimate>>;
}

/** Work seconds of each phase's tasks (without their start), and what the driver merges. */
interface Shape {
  map: number[];
  reduce: number[];
  finalize: number[];
  /** The driver's merge into the counts file (inline, or shards without finalize tasks). */
  driverMerge: number;
  countsBytes: number;
}

const MB = 1e6;
/** The start heads keys and sends message batches 16 at once, peeks 64 (resolve-keys.ts, send-tasks.ts, plan-job.ts). */
const START_CONCURRENCY = 16;
const PEEK_CONCURRENCY = 64;
/** The orchestrator stops this long before Lambda's deadline (README, Coordination). */
const RPC_MARGIN_SECONDS = 60;

export function estimateJob(input: EstimateInput): JobEstimate {
  let textBytes = 0;
  let words = 0;
  let spilled = 0;
  let inlineTooBig = false;
  let longest = { seconds: 0, label: '' };
  const map = input.tasks.map((task) => {
    let seconds = 0;
    let tokens = 0;
    for (const slice of task.slices) {
      const rate = readRate(slice.kind, input.mode);
      seconds += S3_REQUEST_SECONDS + slice.bytes / MB / rate.storedMbPerSecond;
      tokens += (slice.bytes * rate.textPerStored) / HEAPS.bytesPerToken;
      textBytes += slice.bytes * rate.textPerStored;
    }
    words += tokens;
    const distinct = distinctWords(tokens);
    spilled += distinct * LINE_BYTES;
    if (distinct * INLINE_WORD_BYTES > INLINE_RESULT_LIMIT_BYTES) inlineTooBig = true;
    if (seconds > longest.seconds) longest = { seconds, label: task.label };
    return seconds;
  });
  const distinct = distinctWords(words);
  const countsBytes = distinct * LINE_BYTES;
  // The step after the map phase: inline unless a task's answer or the driver's table is too big.
  const partitioned = inlineTooBig || distinct > INLINE_MAX_DISTINCT;
  const mapOutputBytes = partitioned ? spilled : 0;
  const reduceTasks = partitioned
    ? chooseReduceTasks(mapOutputBytes, input.partitions, input.width)
    : 0;
  const finalizeByBytes = Math.min(input.width, Math.floor(countsBytes / FINALIZE_MIN_BYTES));
  const finalizeTasks = partitioned && finalizeByBytes >= 2 ? finalizeByBytes : 0;
  const n = input.tasks.length;
  const shape: Shape = {
    map,
    // A reduce task fetches one piece of every map output, 32 at once, and merges them.
    reduce: new Array<number>(reduceTasks).fill(
      Math.max(
        mapOutputBytes / Math.max(1, reduceTasks) / MB / MERGE_MB_PER_SECOND,
        Math.ceil(readsPerReduce(n) / REDUCE_FETCH_CONCURRENCY) * S3_REQUEST_SECONDS,
      ),
    ),
    finalize: new Array<number>(finalizeTasks).fill(
      countsBytes / Math.max(1, finalizeTasks) / MB / MERGE_MB_PER_SECOND,
    ),
    driverMerge: finalizeTasks > 0 ? 0 : countsBytes / MB / MERGE_MB_PER_SECOND,
    countsBytes,
  };
  const longestSeconds = longest.seconds + TASK_START_SECONDS;
  const timeouts =
    longestSeconds > COUNTER.timeoutSeconds
      ? [
          `${longest.label}: its task would take about ${Math.round(longestSeconds)} s, over the counter's ${COUNTER.timeoutSeconds} s timeout: it would fail on every delivery; split it into smaller objects`,
        ]
      : [];
  const coordinations: JobEstimate['coordinations'] = {};
  for (const c of input.coordinations) {
    const estimate = underCoordination(input, shape, c);
    coordinations[c] = { ...estimate, warnings: [...timeouts, ...estimate.warnings] };
  }
  return {
    textBytes: Math.round(textBytes),
    words: Math.round(words),
    distinctWords: distinct,
    mapOutputBytes: Math.round(mapOutputBytes),
    longestTaskSeconds: round(longestSeconds),
    reduceTasks,
    finalizeTasks,
    coordinations,
  };
}

const round = (seconds: number) => Math.round(seconds * 10) / 10;

function underCoordination(
  input: EstimateInput,
  shape: Shape,
  coordination: Coordination,
): CoordinationEstimate {
  const queue = coordination === 'queue';
  const n = shape.map.length;
  const r = shape.reduce.length;
  const f = shape.finalize.length;
  const tasks = n + r + f;
  const phases = 1 + (r > 0 ? 1 : 0) + (f > 0 ? 1 : 0);
  // A queued task also reads the job, checks and commits, and lists its phase's commits.
  const around = TASK_START_SECONDS + (queue ? QUEUE_TASK_REQUESTS * S3_REQUEST_SECONDS : 0);
  const slots = queue ? queueSlots(input.width) : rpcSlots(input.width);
  const listing =
    input.listing === 'prefix'
      ? Math.ceil(input.objects / 1000) * LIST_PAGE_SECONDS
      : Math.ceil(input.objects / START_CONCURRENCY) * S3_REQUEST_SECONDS;
  const sends = queue ? Math.ceil(n / 10 / START_CONCURRENCY) * S3_REQUEST_SECONDS : 0;
  // The listing, the peeks, the job's records written one after another (active, claim,
  // status, plan, job, phase), and the queue's sends.
  const start =
    listing +
    Math.ceil(input.peeks / PEEK_CONCURRENCY) * S3_REQUEST_SECONDS +
    6 * S3_REQUEST_SECONDS +
    sends;
  const hop = queue ? QUEUE_HOP_SECONDS : 0;
  const withStart = (work: readonly number[]) => work.map((s) => s + around);
  const mapEnd = phaseEnd(withStart(shape.map), slots, 0);
  const reduceEnd = r > 0 ? phaseEnd(withStart(shape.reduce), slots, mapEnd + hop) : mapEnd;
  const finalizeEnd =
    f > 0 ? phaseEnd(withStart(shape.finalize), slots, reduceEnd + hop) : reduceEnd;
  const publish = hop + shape.driverMerge + 4 * S3_REQUEST_SECONDS;
  const seconds = start + finalizeEnd + publish;
  const taskSeconds = [...shape.map, ...shape.reduce, ...shape.finalize].reduce(
    (sum, s) => sum + s + around,
    0,
  );
  // Queue: the task that ends a phase starts the next and publishes, in a counter.
  const counterSeconds = taskSeconds + (queue ? (phases - 1) * hop + publish : 0);
  const orchestratorSeconds = queue ? start : seconds;
  const gb = (mb: number) => mb / 1024;
  const requests = jobRequests({
    ...input,
    mapTasks: n,
    reduceTasks: r,
    finalizeTasks: f,
    countsBytes: shape.countsBytes,
    queue,
  });
  const cost = costOf(
    {
      functions: {
        orchestrator: {
          invocations: 1,
          billedMs: Math.ceil(orchestratorSeconds * 1000),
          gbSeconds: orchestratorSeconds * gb(ORCHESTRATOR.memoryMb),
        },
        counter: {
          invocations: tasks,
          billedMs: Math.ceil(counterSeconds * 1000),
          gbSeconds: counterSeconds * gb(COUNTER.memoryMb),
        },
      },
      requests,
      retries: 0,
    },
    { backend: 'lambda', prices: input.prices },
  );
  const warnings: string[] = [];
  const deadline = ORCHESTRATOR.timeoutSeconds - RPC_MARGIN_SECONDS;
  if (!queue && seconds > deadline) {
    warnings.push(
      `the job would take about ${Math.round(seconds / 60)} min, past the ${deadline} s an RPC orchestrator works before Lambda's ${ORCHESTRATOR.timeoutSeconds / 60}-minute limit: it would fail; count it with queue coordination`,
    );
  }
  return {
    seconds: round(seconds),
    phasesSeconds: {
      start: round(start),
      map: round(mapEnd),
      reduce: round(reduceEnd - mapEnd),
      finalize: round(finalizeEnd - reduceEnd),
      publish: round(publish),
    },
    cost,
    warnings,
  };
}
