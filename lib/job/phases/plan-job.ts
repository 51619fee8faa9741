/**
 * Planning a job, for both drivers: the chunk size (given, or chosen from the size and
 * the width), the map tasks (Hadoop's InputSplits: ranges of big plain objects, whole
 * gzip objects, packs of small ones), and the hash partitions P every map output uses.
 * Only the first bytes of objects bigger than a chunk are read: gzip does not split.
 */
import { mapLimit } from '../../concurrency.js';
import {
  autoChunkSize,
  checkChunkSize,
  type MapTaskPlan,
  needsPeek,
  planTasks,
  type SourceObject,
  totalBytes,
} from '../../plan.js';
import type { ObjectStore } from '../../ports.js';
import { choosePartitions } from '../../reduce/partition.js';

/** Objects whose first bytes are read at once, to tell gzip from text. */
const PEEK_CONCURRENCY = 16;

export interface JobPlan {
  chunkSize: number;
  tasks: MapTaskPlan[];
  /** The job's hash partitions P. */
  partitions: number;
}

/** Reads the first bytes of objects too big for one task: gzip ones are not split. */
async function peekGzip(
  store: ObjectStore,
  objects: readonly SourceObject[],
  chunkSize: number,
): Promise<SourceObject[]> {
  return mapLimit(objects, PEEK_CONCURRENCY, async (object) => {
    if (!needsPeek(object, chunkSize)) return object;
    const head: number[] = [];
    for await (const piece of store.readRange(object.key, {
      start: 0,
      end: 2,
      ifMatch: object.etag,
    })) {
      head.push(...piece);
    }
    return { ...object, gzip: head[0] === 0x1f && head[1] === 0x8b };
  });
}

/** The map tasks of a job over `objects` (their first bytes read where gzip must be known). */
export async function planJob(
  store: ObjectStore,
  objects: readonly SourceObject[],
  options: { chunkSize?: number; concurrency: number },
): Promise<JobPlan> {
  const bytes = totalBytes(objects);
  const chunkSize = options.chunkSize ?? autoChunkSize(bytes, options.concurrency);
  checkChunkSize(chunkSize);
  const tasks = planTasks(await peekGzip(store, objects, chunkSize), chunkSize);
  return { chunkSize, tasks, partitions: choosePartitions(bytes) };
}
