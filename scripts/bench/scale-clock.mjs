/**
 * Simulated time for the scale section: a discrete-event clock. A request "takes" its
 * latency by sleeping on this clock, which jumps straight to the earliest pending wake-up
 * once everything runnable has run (the microtasks a wake-up set going drain before the
 * next setImmediate), so a million requests of 20 ms cost no real waiting and the clock
 * reads what the job would take on S3 with that many counters at once. CPU time is not
 * on this clock: the simulator's own run time is reported beside it.
 */

/** A min-heap of wake-ups by time, then by order of sleeping (a stable order). */
class WakeUps {
  items = [];

  get size() {
    return this.items.length;
  }

  push(item) {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i], a[parent])) break;
      [a[i], a[parent]] = [a[parent], a[i]];
      i = parent;
    }
  }

  pop() {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l], a[m])) m = l;
        if (r < a.length && before(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

const before = (x, y) => x.at < y.at || (x.at === y.at && x.seq < y.seq);

export class VirtualClock {
  #now = 0;
  #seq = 0;
  #wakeUps = new WakeUps();
  #scheduled = false;

  /** Simulated milliseconds since the clock was made. */
  get ms() {
    return this.#now;
  }

  /** Resolves once `ms` simulated milliseconds have passed. */
  sleep(ms) {
    return new Promise((resolve) => {
      this.#wakeUps.push({ at: this.#now + Math.max(0, ms), seq: this.#seq++, resolve });
      this.#schedule();
    });
  }

  #schedule() {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#tick);
  }

  #tick = () => {
    this.#scheduled = false;
    if (this.#wakeUps.size === 0) return;
    const next = this.#wakeUps.pop();
    this.#now = Math.max(this.#now, next.at);
    next.resolve();
    if (this.#wakeUps.size > 0) this.#schedule();
  };
}

/** A seeded generator of uniform numbers in [0, 1) (mulberry32): the same run each time. */
export function seededRandom(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Per-request latency in ms, uniform in [min, max], from a spec like "15-30" or "20". */
export function latencyOf(spec, seed = 19) {
  const match = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(spec.trim());
  if (!match) throw new Error(`latency must be MS or MIN-MAX in ms, got '${spec}'`);
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  if (max < min) throw new Error(`latency ${spec}: the maximum is below the minimum`);
  const random = seededRandom(seed);
  const draw = () => min + (max - min) * random();
  draw.label = min === max ? `${min} ms` : `${min}-${max} ms`;
  return draw;
}
