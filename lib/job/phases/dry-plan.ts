/**
 * Planning before paying: what a job would do, from the objects' names and sizes alone.
 * The real planner (plan-job.ts) reads the first bytes of every object bigger than a
 * chunk to tell how it splits; a dry plan reads nothing and goes by the name instead
 * (.gz/.zst whole, .warc/.wet whole, .parquet by row groups, others in ranges), then
 * plans the same tasks (plan.ts) and estimates their time and bill (estimate.ts). Pure:
 * the I/O (a listing, a directory walk) and the admission are its callers'.
 */
import type { Coordination, PlanSummary } from '../../contracts/plan.js';
import type { Prices } from '../../cost/prices.js';
import type { ContentKind } from '../../cost/rates.js';
import {
  MAX_AUTO_CHUNK_SIZE,
  planRanges,
  planTasks,
  type Split,
  TARGET_JOB_TASKS,
} from '../../plan.js';
import { type Format, formatByName } from '../../records/formats.js';
import { choosePartitions } from '../../reduce/partition.js';
import { formatSize } from '../../sizes.js';
import type { Mode } from '../../tokenize.js';
import type { Job } from '../request/admit.js';
import { estimateJob } from './estimate.js';
import { assumptionsOf } from './plan-assumptions.js';

export interface DryPlanInput {
  /** What was asked for: a path, an s3:// key, prefix or manifest. */
  uri: string;
  /** How the input resolves: a listing (prefix, directory) or a HEAD per key. */
  listing: 'prefix' | 'keys';
  objects: readonly { key: string; uri: string; size: number }[];
}

export interface DryPlanOptions {
  mode: Mode;
  /** The format asked for; by name when absent. */
  format?: Format;
  /** --doc-freq: a text object is one document, read whole. */
  docFreq?: boolean;
  /** As admission chose it. */
  chunkSize: number;
  chunkSizeAsked: boolean;
  /** The chunk size a job starts from when none is asked. */
  defaultChunkSize: number;
  width: number;
  widthReason: string;
  coordinations: readonly Coordination[];
  prices: Prices;
}

/** A split as a name tells it: row groups are in a footer, which a dry plan does not read. */
type NamedSplit = Exclude<Split, { kind: 'rowGroups' }> | { kind: 'rowGroups' };

const COMPRESSED = /\.(gz|gzip|zst|zstd)$/i;
const WARC = /\.(warc|wet)$/i;

/** How an object over the chunk size would split, and what its counter reads, by its name. */
export function splitByName(
  key: string,
  format?: Format,
  docFreq = false,
): { split: NamedSplit; kind: ContentKind } {
  const stem = key.replace(COMPRESSED, '');
  const warc = format === 'warc' || WARC.test(stem);
  // Compression is told by content whatever the format: such an object is read whole.
  if (stem !== key) return { split: { kind: 'whole' }, kind: warc ? 'warc' : 'compressed' };
  if (warc) return { split: { kind: 'whole' }, kind: 'text' };
  if (format === 'parquet' || (format === undefined && /\.parquet$/i.test(key))) {
    return { split: { kind: 'rowGroups' }, kind: 'parquet' };
  }
  const jsonl = format === 'jsonl' || (format === undefined && formatByName(key) === 'jsonl');
  if (docFreq && !jsonl) return { split: { kind: 'whole' }, kind: 'text' };
  return { split: { kind: 'ranges', format: jsonl ? 'jsonl' : 'text' }, kind: 'text' };
}

type Share = keyof PlanSummary['splits'];

export function dryPlan(input: DryPlanInput, options: DryPlanOptions): PlanSummary {
  const { chunkSize } = options;
  const named = input.objects.map((o) => ({
    ...o,
    ...splitByName(o.key, options.format, options.docFreq),
  }));
  const kindOf = new Map(named.map((o) => [o.key, o.kind]));
  const shareOf = new Map<string, Share>(
    named.map((o) => [o.key, o.size > chunkSize ? o.split.kind : 'packed']),
  );
  const tasks = planTasks(
    named.map((o) => ({
      key: o.key,
      uri: o.uri,
      size: o.size,
      etag: '',
      // A Parquet file's row groups are in its footer: taken as ranges of a chunk.
      split:
        o.split.kind === 'rowGroups'
          ? { kind: 'rowGroups', groups: planRanges(o.size, chunkSize) }
          : o.split,
    })),
    chunkSize,
  );
  const bytes = named.reduce((sum, o) => sum + o.size, 0);
  const splits: PlanSummary['splits'] = {
    ranges: { objects: 0, bytes: 0, tasks: 0 },
    rowGroups: { objects: 0, bytes: 0, tasks: 0 },
    whole: { objects: 0, bytes: 0, tasks: 0 },
    packed: { objects: 0, bytes: 0, tasks: 0 },
  };
  for (const o of named) {
    if (o.size === 0) continue;
    const share = splits[shareOf.get(o.key) as Share];
    share.objects++;
    share.bytes += o.size;
  }
  for (const task of tasks) splits[shareOf.get(task.slices[0]?.key ?? '') ?? 'packed'].tasks++;
  const uriOf = new Map(named.map((o) => [o.key, o.uri]));
  const partitions = choosePartitions(bytes);
  const estimate = estimateJob({
    mode: options.mode,
    tasks: tasks.map((task) => ({
      label: uriOf.get(task.slices[0]?.key ?? '') ?? input.uri,
      slices: task.slices.map((s) => ({
        bytes: s.end - s.start,
        kind: kindOf.get(s.key) ?? 'text',
        whole: s.whole,
      })),
    })),
    partitions,
    objects: input.objects.length,
    listing: input.listing,
    peeks: named.filter((o) => o.size > chunkSize).length,
    width: options.width,
    coordinations: options.coordinations,
    prices: options.prices,
  });
  const { reduceTasks, finalizeTasks, ...figures } = estimate;
  return {
    dryRun: true,
    source: { uri: input.uri, objects: input.objects.length, bytes },
    mode: options.mode,
    chunkSize,
    chunkSizeReason: chunkSizeReason(bytes, options),
    partitions,
    tasks: {
      map: tasks.length,
      reduce: reduceTasks,
      finalize: finalizeTasks,
      total: tasks.length + reduceTasks + finalizeTasks,
    },
    splits,
    width: { counters: options.width, reason: options.widthReason },
    estimate: figures,
    assumptions: assumptionsOf({
      ...options,
      kinds: new Set(named.filter((o) => o.size > 0).map((o) => o.kind)),
      reduce: reduceTasks > 0,
    }),
  };
}

function chunkSizeReason(bytes: number, options: DryPlanOptions): string {
  const { chunkSize, defaultChunkSize: base } = options;
  if (options.chunkSizeAsked) return `asked for: ${formatSize(chunkSize)}`;
  const chunks = Math.ceil(bytes / base);
  if (chunkSize === base) {
    return `the default: ${chunks.toLocaleString('en-US')} chunk(s), within ${TARGET_JOB_TASKS.toLocaleString('en-US')}`;
  }
  const capped =
    chunkSize >= MAX_AUTO_CHUNK_SIZE && Math.ceil(bytes / chunkSize) > TARGET_JOB_TASKS;
  return capped
    ? `the default ${formatSize(base)} doubled to its cap of ${formatSize(MAX_AUTO_CHUNK_SIZE)}: ${Math.ceil(bytes / chunkSize).toLocaleString('en-US')} chunks are still over ${TARGET_JOB_TASKS.toLocaleString('en-US')}`
    : `the default ${formatSize(base)} doubled until the input is at most ${TARGET_JOB_TASKS.toLocaleString('en-US')} chunks (${chunks.toLocaleString('en-US')} of ${formatSize(base)})`;
}

/** What a deployment plans with: its default chunk size, its width, its coordinations, its prices. */
export interface Deployment {
  defaultChunkSize: number;
  width: number;
  widthReason: string;
  coordinations: readonly Coordination[];
  prices: Prices;
}

/** The dry plan of an admitted job: its objects, chunk size, mode and format as admission took them. */
export function dryPlanOfJob(job: Job, deployment: Deployment): PlanSummary {
  const { name } = job.input;
  return dryPlan(
    {
      uri: job.input.uri,
      // A manifest lists a prefix or heads its keys: one object is a key's HEAD.
      listing:
        name.kind === 'prefix' || (name.kind === 'key' && job.input.objects.length > 1)
          ? 'prefix'
          : 'keys',
      objects: job.input.objects,
    },
    {
      ...deployment,
      mode: job.mode,
      ...(job.records.format !== undefined &&
        job.records.format !== 'auto' && { format: job.records.format }),
      ...(job.records.docFreq && { docFreq: true }),
      chunkSize: job.chunkSize,
      chunkSizeAsked:
        job.request.chunkSize !== undefined || job.input.options.chunkSize !== undefined,
    },
  );
}
