/**
 * Planning a job, for both drivers: the chunk size (given, or chosen from the size and
 * the width), the map tasks (Hadoop's InputSplits: ranges of big plain text and JSON
 * Lines objects, row groups of Parquet files, whole compressed and WARC objects, packs
 * of small ones), and the hash partitions P every map output uses. Only objects bigger
 * than a chunk are looked at: their first bytes, and a Parquet file's footer.
 */
import { mapLimit } from '../../concurrency.js';
import type { RecordOptions } from '../../contracts/records.js';
import {
  autoChunkSize,
  checkChunkSize,
  type MapTaskPlan,
  needsPeek,
  planTasks,
  type SourceObject,
  type Split,
  totalBytes,
} from '../../plan.js';
import type { ObjectStore } from '../../ports.js';
import { codecOf, HEAD_BYTES } from '../../records/codecs.js';
import { DEFAULT_FIELD, resolveFormat } from '../../records/formats.js';
import { fieldColumn, readFooter } from '../../records/parquet.js';
import { choosePartitions } from '../../reduce/partition.js';

/**
 * Objects whose first bytes are read at once, to tell how they split: a crawl's 30,000
 * gzip files at ~20 ms a read take about 10 s (S3 serves thousands of reads a second).
 */
const PEEK_CONCURRENCY = 64;

export interface JobPlan {
  chunkSize: number;
  tasks: MapTaskPlan[];
  /** The job's hash partitions P. */
  partitions: number;
}

async function headOf(store: ObjectStore, object: SourceObject): Promise<Uint8Array> {
  const head: number[] = [];
  for await (const piece of store.readRange(object.key, {
    start: 0,
    end: HEAD_BYTES,
    ifMatch: object.etag,
  })) {
    head.push(...piece);
  }
  return Uint8Array.from(head);
}

/**
 * How a big object splits: a compressed one (gzip, zstd) or a WARC file is read whole;
 * a Parquet file by the row groups of its footer; text and JSON Lines by byte ranges
 * (text whole under --doc-freq: the object is the document).
 */
export async function splitOf(
  store: ObjectStore,
  object: SourceObject,
  records: RecordOptions = {},
): Promise<Split> {
  const head = await headOf(store, object);
  if (codecOf(head) !== 'none') return { kind: 'whole' };
  // Uncompressed: the first bytes are the text's too.
  const format = resolveFormat(records.format ?? 'auto', object.key, head, head);
  if (format === 'parquet') {
    const o = { key: object.key, etag: object.etag, size: object.size, uri: object.uri };
    const groups = fieldColumn(await readFooter(store, o), records.field ?? DEFAULT_FIELD, o);
    return { kind: 'rowGroups', groups };
  }
  if (format === 'warc') return { kind: 'whole' };
  // Under --doc-freq a text object is one document: read whole by one task.
  if (format === 'text' && records.docFreq) return { kind: 'whole' };
  return { kind: 'ranges', format };
}

/** The map tasks of a job over `objects` (the big ones looked at to tell how they split). */
export async function planJob(
  store: ObjectStore,
  objects: readonly SourceObject[],
  options: { chunkSize?: number; concurrency: number; records?: RecordOptions },
): Promise<JobPlan> {
  const bytes = totalBytes(objects);
  const chunkSize = options.chunkSize ?? autoChunkSize(bytes, options.concurrency);
  checkChunkSize(chunkSize);
  const looked = await mapLimit(objects, PEEK_CONCURRENCY, async (object) =>
    needsPeek(object, chunkSize)
      ? { ...object, split: await splitOf(store, object, options.records) }
      : object,
  );
  const tasks = planTasks(looked, chunkSize);
  return { chunkSize, tasks, partitions: choosePartitions(bytes) };
}
