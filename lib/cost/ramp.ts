/**
 * Wall time of a phase of tasks run as wide as AWS lets them: the tasks start in order
 * whenever a slot is free, and the slots grow as the coordination's scaling rate allows
 * (the SQS event source mapping's ramp, or Lambda's own for direct invocations), up to
 * the width. Pure: durations in, the time the last task ends out.
 */
import { LAMBDA_SCALING, SQS_MAPPING_SCALING } from './rates.js';

/** Slots at a time since the job's first task was sent, and when they next grow. */
export type Slots = (t: number) => { now: number; nextAt: number };

/** Whole steps of `step` seconds by `t`: a time reached as `k * step` is k steps, whatever its rounding. */
const stepsAt = (t: number, step: number) => Math.floor(t / step + 1e-9);

/** Queue: 5 batches at first, then up to 300 more a minute, up to the width. */
export function queueSlots(width: number): Slots {
  const { initial, perMinute, max } = SQS_MAPPING_SCALING;
  const cap = Math.max(1, Math.min(width, max));
  const step = 60 / perMinute;
  return (t) => {
    const steps = stepsAt(t, step);
    const now = Math.min(cap, initial + steps);
    return { now, nextAt: now >= cap ? Number.POSITIVE_INFINITY : (steps + 1) * step };
  };
}

/** RPC: the orchestrator invokes as many as the width, Lambda adding 1,000 every 10 seconds. */
export function rpcSlots(width: number): Slots {
  const { executions, everySeconds } = LAMBDA_SCALING;
  const cap = Math.max(1, width);
  return (t) => {
    const steps = stepsAt(t, everySeconds) + 1;
    const now = Math.min(cap, executions * steps);
    return { now, nextAt: now >= cap ? Number.POSITIVE_INFINITY : steps * everySeconds };
  };
}

/** A min-heap of task end times. */
class Ends {
  private readonly heap: number[] = [];
  get size(): number {
    return this.heap.length;
  }
  peek(): number {
    return this.heap[0] ?? Number.POSITIVE_INFINITY;
  }
  max(): number {
    return this.heap.reduce((a, b) => Math.max(a, b), 0);
  }
  push(value: number): void {
    const h = this.heap;
    h.push(value);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as number) <= value) break;
      h[i] = h[parent] as number;
      h[parent] = value;
      i = parent;
    }
  }
  pop(): void {
    const h = this.heap;
    const last = h.pop() as number;
    if (h.length === 0) return;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let least = i;
      if (l < h.length && (h[l] as number) < (h[least] as number)) least = l;
      if (r < h.length && (h[r] as number) < (h[least] as number)) least = r;
      if (least === i) break;
      [h[i], h[least]] = [h[least] as number, h[i] as number];
      i = least;
    }
  }
}

/**
 * When the last of `durations` ends, started at `from` (seconds since the first task was
 * sent: the ramp goes on from where the previous phase left it).
 */
export function phaseEnd(durations: readonly number[], slots: Slots, from: number): number {
  const running = new Ends();
  let t = from;
  let next = 0;
  while (next < durations.length) {
    const { now, nextAt } = slots(t);
    while (running.size < now && next < durations.length) {
      running.push(t + (durations[next++] as number));
    }
    if (next >= durations.length) break;
    t = Math.min(running.size >= now ? running.peek() : t, nextAt);
    while (running.size > 0 && running.peek() <= t) running.pop();
  }
  return Math.max(t, running.max());
}
