/** Waiting before trying a contended write again: random, doubling with each attempt. */

/** A random pause of up to 20 ms × 2^attempt, never over `capMs`. */
export function backoff(attempt: number, capMs = 1000): Promise<void> {
  const ms = Math.random() * Math.min(capMs, 20 * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
