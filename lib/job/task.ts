/**
 * The task function: one entry for both phases, as Corral runs map and reduce in one
 * Lambda. The payload's `type` says which; a warm instance serves either.
 */
import {
  type MapResult,
  parsePayload,
  type ReduceResult,
  TaskRequestSchema,
} from '../contracts.js';
import { type MapStores, runMapTask } from './map-task.js';
import { runReduceTask } from './reduce-task.js';

export async function runTask(
  stores: MapStores,
  payload: unknown,
): Promise<MapResult | ReduceResult> {
  const request = parsePayload(TaskRequestSchema, payload, 'task request');
  return request.type === 'map' ? runMapTask(stores, request) : runReduceTask(stores.work, request);
}
