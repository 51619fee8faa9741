/**
 * Counts a worker thread holds across map tasks (the embedded backend's own way of
 * running the map phase, held-map-phase.ts): each held map task adds to the thread's
 * table instead of answering with its own counts, and one collect per thread at the end
 * of the map phase hands the table back, as bytes in a transferred buffer or spilled like
 * a map output when it is big. The driver then merges one table per thread instead of one
 * per task, and every task after the first starts on a warm table. These messages never
 * leave the process: they are this adapter's, not the task function's contract.
 */
import { randomUUID } from 'node:crypto';
import type { MapRequest, SpilledPart } from '../../contracts/tasks.js';
import type { MapTotals } from '../../job/phases/map-results.js';
import {
  countSlices,
  linesWithin,
  type MapStores,
  writePartitioned,
} from '../../job/tasks/map-task.js';
import type { TaskCounts } from '../../kernel/task-counts.js';
import { mapSpillPart } from '../../keys.js';
import { peakRssBytes } from '../../rss.js';

/** Count `request` into the thread's table held under `hold`. */
export interface HoldRequest {
  type: 'hold';
  hold: string;
  request: MapRequest;
}

/** What a held map task answers: what it added, its counts stay in the thread. */
export interface HeldTotals extends MapTotals {
  type: 'held';
  index: number;
}

/** Hand back (or, for a failed job, drop) the table held under `hold`. */
export interface CollectRequest {
  type: 'collect';
  hold: string;
  spill: MapRequest['spill'];
  discard?: boolean;
}

/** What a thread held: the counts of the map tasks it ran, inline or spilled. */
export interface HeldCounts {
  type: 'collect';
  /** The map tasks whose counts these are (none if the thread was replaced). */
  tasks: number[];
  lines?: Uint8Array;
  spilled?: SpilledPart[];
}

interface HeldTable {
  /** The table; a map task that spills leaves a fresh one here. */
  counts: TaskCounts | undefined;
  /** The map tasks counted into it (or into what it spilled). */
  tasks: number[];
  /** Parts spilled by the held tasks (a table that filled up). */
  spilled: SpilledPart[];
}

const held = new Map<string, HeldTable>();

/** Runs a held map task in this thread. */
export async function countHeld(
  stores: MapStores,
  { hold, request }: HoldRequest,
): Promise<HeldTotals> {
  let table = held.get(hold);
  if (!table) {
    table = { counts: undefined, tasks: [], spilled: [] };
    held.set(hold, table);
  }
  const { counts, spilled, ...totals } = await countSlices(stores, request, { into: table.counts });
  table.counts = counts;
  table.tasks.push(request.index);
  table.spilled.push(...spilled);
  return { type: 'held', index: request.index, ...totals, maxRssBytes: peakRssBytes() };
}

/** Hands back (or drops) and forgets the table held under `request.hold`. */
export async function collectHeld(
  work: MapStores['work'],
  request: CollectRequest,
): Promise<HeldCounts> {
  const table = held.get(request.hold);
  held.delete(request.hold);
  const tasks = table?.tasks ?? [];
  const spilled = table?.spilled ?? [];
  const counts = table?.counts;
  if (request.discard) return { type: 'collect', tasks };
  if (!counts || counts.distinct() === 0) return { type: 'collect', tasks, spilled };
  const { inlineLimitBytes, partitions, prefix } = request.spill;
  const lines = linesWithin(counts, inlineLimitBytes);
  if (lines) return { type: 'collect', tasks, lines, spilled };
  const key = mapSpillPart(prefix, `held-${randomUUID().slice(0, 8)}`);
  return {
    type: 'collect',
    tasks,
    spilled: [...spilled, await writePartitioned(work, counts, key, partitions)],
  };
}
