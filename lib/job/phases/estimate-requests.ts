/**
 * The requests a planned job would make, by phase and coordination (README, What a job
 * costs: where the requests come from), counted by the names the request meter uses so
 * the bill is reckoned as a job's own (job-cost.ts). Pure.
 */
import type { RequestCounts } from '../../cost/request-meter.js';
import { INDEX_CHUNK_PARTS } from '../tasks/parts-index.js';

export interface JobRequestsInput {
  /** Each map task's slices: a GET each, and an overrun read for a range. */
  tasks: readonly { slices: readonly { whole: boolean }[] }[];
  objects: number;
  listing: 'prefix' | 'keys';
  peeks: number;
  mapTasks: number;
  reduceTasks: number;
  finalizeTasks: number;
  /** The counts file's size: finalize reads the shards in blocks of it. */
  countsBytes: number;
  queue: boolean;
}

/** Blocks finalize reads shards in (finalize-task.ts). */
const SHARD_BLOCK_BYTES = 8 * 1024 * 1024;
/** Commits are listed and marked in groups of this many tasks (the ledger). */
const COMMIT_GROUP = 100;

/** A reduce task's reads: its piece of every map output, and two of each index chunk (parts-index.ts). */
export const readsPerReduce = (mapTasks: number) =>
  mapTasks + 2 * Math.ceil(mapTasks / INDEX_CHUNK_PARTS);

/** The requests of the job (README, What a job costs: where the requests come from). */
export function jobRequests(job: JobRequestsInput): RequestCounts {
  const { mapTasks: n, reduceTasks: r, finalizeTasks: f, queue } = job;
  const input = job;
  const tasks = n + r + f;
  const phases = 1 + (r > 0 ? 1 : 0) + (f > 0 ? 1 : 0);
  const slices = input.tasks.reduce((sum, t) => sum + t.slices.length, 0);
  const ranges = input.tasks.filter((t) => t.slices.some((s) => !s.whole)).length;
  const shardReads = r > 0 ? Math.ceil(job.countsBytes / SHARD_BLOCK_BYTES) + r : 0;
  const groups = queue
    ? Math.ceil(n / COMMIT_GROUP) + Math.ceil(r / COMMIT_GROUP) + Math.ceil(f / COMMIT_GROUP)
    : 0;
  const counts: RequestCounts = {
    // The input's pages, the scratch folders once; queued: a task's group, a group's marks.
    's3:ListObjectsV2':
      (input.listing === 'prefix' ? Math.ceil(input.objects / 1000) : 0) +
      1 +
      (queue ? tasks + groups : 0),
    's3:HeadObject': (input.listing === 'keys' ? input.objects : 0) + (queue ? tasks : 0),
    // Peeks, a GET per slice (and an overrun read per range), per reduce task a piece of
    // every map output and two of each index chunk, the shards read in blocks; queued:
    // the job, its status and its commit.
    's3:GetObject':
      input.peeks + slices + ranges + r * readsPerReduce(n) + shardReads + (queue ? 3 * tasks : 0),
    // Claim, plan, status twice, spilled outputs, their index and shards, summary and
    // report; queued: the job's records, a run and a commit per task, a mark per group,
    // each phase's record and requests.
    's3:PutObject':
      4 +
      (r > 0 ? n + Math.ceil(n / INDEX_CHUNK_PARTS) + r : 0) +
      2 +
      (f > 0 ? 0 : 1) +
      (queue ? 2 + 2 * tasks + groups + 3 * phases : 0),
    's3:CopyObject': 1,
  };
  if (f > 0) {
    counts['s3:CreateMultipartUpload'] = 1;
    counts['s3:CompleteMultipartUpload'] = 1;
    counts['s3:UploadPart'] = f;
  }
  // Queued: a batch send per 10 tasks, the mapping's receive and delete of each message.
  if (queue) counts['sqs:SendMessageBatch'] = Math.ceil(tasks / 10);
  if (queue) counts['sqs:ReceiveMessage'] = tasks;
  if (queue) counts['sqs:DeleteMessage'] = tasks;
  return counts;
}
