/**
 * Finalize: streams a k-way merge of the reduce tasks' sorted shards into the one
 * counts file (a multipart upload on S3). Memory is a few blocks per shard, bounded by
 * the number of shards, not by the vocabulary.
 */
import type { ObjectStore } from '../ports.js';
import { mergeShards } from '../reduce/merge-shards.js';
import { readBlocks } from './read.js';

/** All shards' read blocks together stay about this size... */
const READ_BUDGET_BYTES = 64 * 1024 * 1024;
/** ...within these bounds per block. */
const MIN_BLOCK = 256 * 1024;
const MAX_BLOCK = 8 * 1024 * 1024;

export interface CountsTarget {
  store: ObjectStore;
  key: string;
}

/** Writes the merge of `shards` (in `work`) to `target`; returns the bytes written. */
export async function finalizeCounts(
  work: ObjectStore,
  shards: readonly { key: string; bytes: number }[],
  target: CountsTarget,
): Promise<number> {
  const block = Math.min(
    MAX_BLOCK,
    Math.max(MIN_BLOCK, Math.floor(READ_BUDGET_BYTES / Math.max(1, shards.length))),
  );
  const sources = shards
    .filter((s) => s.bytes > 0)
    .map((s) => ({ name: work.uri(s.key), pieces: readBlocks(work, s.key, s.bytes, block) }));
  let written = 0;
  const merged = async function* () {
    for await (const piece of mergeShards(sources)) {
      written += piece.length;
      yield piece;
    }
  };
  await target.store.put(target.key, merged(), { contentType: 'text/tab-separated-values' });
  return written;
}
