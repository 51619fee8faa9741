/**
 * Counts a worker thread holds across map tasks (embedded backend): each map task with
 * `hold` adds to the thread's table instead of answering with its own, and one collect
 * per thread at the end of the map phase hands the table back, as bytes in a
 * transferred buffer or spilled like a map output when it is big. The driver then
 * merges one table per thread instead of one per task, and every task after the first
 * starts on a warm table.
 */
import { randomUUID } from 'node:crypto';
import type { CollectRequest, HeldCounts } from '../contracts.js';
import type { TaskCounts } from '../kernel/task-counts.js';
import { mapSpillPart } from '../keys.js';
import type { ObjectStore } from '../ports.js';
import { linesWithin, writePartitioned } from './map-task.js';

export interface HeldTable {
  /** The table; a map task that spills leaves a fresh one here. */
  counts: TaskCounts | undefined;
  /** The map tasks counted into it (or into what it spilled). */
  tasks: number[];
}

const held = new Map<string, HeldTable>();

/** The table held under `name` in this thread, made on first use. */
export function heldTable(name: string): HeldTable {
  let table = held.get(name);
  if (!table) {
    table = { counts: undefined, tasks: [] };
    held.set(name, table);
  }
  return table;
}

/** Hands back (or, for a failed job, drops) and forgets the table held under `request.hold`. */
export async function collectHeld(work: ObjectStore, request: CollectRequest): Promise<HeldCounts> {
  const table = held.get(request.hold);
  held.delete(request.hold);
  const tasks = table?.tasks ?? [];
  const counts = table?.counts;
  if (request.discard || !counts || counts.distinct() === 0) return { type: 'collect', tasks };
  const { inlineLimitBytes, partitions, prefix } = request.spill;
  const lines = linesWithin(counts, inlineLimitBytes);
  if (lines) return { type: 'collect', tasks, lines };
  const key = mapSpillPart(prefix, `held-${randomUUID().slice(0, 8)}`);
  return {
    type: 'collect',
    tasks,
    spilled: [await writePartitioned(work, counts, key, partitions)],
  };
}
