/**
 * The task function: one entry for every phase, as Corral runs map and reduce in one
 * Lambda. The payload's `type` says which; a warm instance serves any.
 */
import { parsePayload } from '../../contracts/parse.js';
import {
  type FinalizeResult,
  type MapResult,
  type ReduceResult,
  TaskRequestSchema,
} from '../../contracts/tasks.js';
import type { TaskUsage } from '../../cost/usage.js';
import { runFinalizeTask } from './finalize-task.js';
import { type MapStores, runMapTask } from './map-task.js';
import { runReduceTask } from './reduce-task.js';

/**
 * Runs the task `payload` asks for. With `usage` (started when the function began on
 * it: startUsage), the result says what the task used, for the job's cost.
 */
export async function runTask(
  stores: MapStores,
  payload: unknown,
  usage?: () => TaskUsage,
): Promise<MapResult | ReduceResult | FinalizeResult> {
  const result = await run(stores, payload);
  return usage ? { ...result, usage: usage() } : result;
}

function run(stores: MapStores, payload: unknown) {
  const request = parsePayload(TaskRequestSchema, payload, 'task request');
  switch (request.type) {
    case 'map':
      return runMapTask(stores, request);
    case 'reduce':
      return runReduceTask(stores.work, request);
    case 'finalize':
      return runFinalizeTask(stores.work, request);
  }
}
