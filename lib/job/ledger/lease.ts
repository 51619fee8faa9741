/**
 * A lease on a key: the article's distributed lock, on S3 conditional writes. One holder
 * at a time. The holder renews a heartbeat with `If-Match` every period; a lease whose
 * heartbeat is older than two periods belongs to a process that died, and is taken over
 * with `If-Match` on what was read, so of several takers exactly one wins. Each loser's
 * path is explicit: `acquire` says who holds it, `renew` says the lease was lost.
 */

import { backoff } from '../../backoff.js';
import {
  ConditionalConflictError,
  ObjectNotFoundError,
  PreconditionFailedError,
} from '../../errors.js';
import type { ObjectStore } from '../../ports.js';
import { readJson, readJsonVersion } from '../../stored-json.js';

/** How often a holder renews its heartbeat; a lease is stale after two periods. */
export const HEARTBEAT_MS = 30_000;
/** Periods of failed renewals after which a holder gives up its lease (stale at two). */
const GIVE_UP_PERIODS = 1.5;
/** Attempts at a contended write before giving up (S3 409s, races with a taker). */
const MAX_ATTEMPTS = 8;

export interface LeaseRecord {
  owner: string;
  heartbeatAt: string;
  /** The holder's heartbeat period: what its staleness is judged by, whoever reads it. */
  periodMs?: number;
  /** What the holder is doing, for whoever finds the lease held. */
  detail?: string;
}

export type Acquired =
  | { held: true; tookOver?: LeaseRecord }
  | { held: false; holder: LeaseRecord };

export interface LeaseOptions {
  periodMs?: number;
  now?: () => Date;
  detail?: string;
}

/**
 * Whether a lease last renewed at `heartbeatAt` belongs to a holder that died: silent for
 * two of its periods (as it recorded them; `periodMs` for a record that does not say).
 */
export function isStaleLease(record: LeaseRecord, periodMs: number, now: Date): boolean {
  const period = record.periodMs ?? periodMs;
  return !(now.getTime() - Date.parse(record.heartbeatAt) <= 2 * period);
}

/** Who holds the lease on `key`, without taking it; undefined when nobody does. */
export async function leaseHolder(
  store: ObjectStore,
  key: string,
): Promise<LeaseRecord | undefined> {
  return (await readJson(store, key)) as LeaseRecord | undefined;
}

export class Lease {
  private etag: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The renewal in flight, which release() waits out: else it could rewrite the key after it. */
  private renewing: Promise<void> | undefined;
  readonly periodMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly store: ObjectStore,
    readonly key: string,
    readonly owner: string,
    private readonly options: LeaseOptions = {},
  ) {
    this.periodMs = options.periodMs ?? HEARTBEAT_MS;
    this.now = options.now ?? (() => new Date());
  }

  private record(): string {
    const record: LeaseRecord = {
      owner: this.owner,
      heartbeatAt: this.now().toISOString(),
      periodMs: this.periodMs,
      ...(this.options.detail && { detail: this.options.detail }),
    };
    return JSON.stringify(record);
  }

  /** Whether a lease last renewed at `heartbeatAt` belongs to a holder that died. */
  isStale(record: LeaseRecord): boolean {
    return isStaleLease(record, this.periodMs, this.now());
  }

  /** Takes the lease: free, or stale and taken over; else says who holds it. */
  async acquire(): Promise<Acquired> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        this.etag = (
          await this.store.put(this.key, this.record(), {
            ifNoneMatch: true,
            contentType: 'application/json',
          })
        ).etag;
        return { held: true };
      } catch (error) {
        if (error instanceof ConditionalConflictError) {
          await backoff(attempt);
          continue;
        }
        if (!(error instanceof PreconditionFailedError)) throw error;
      }
      const read = await readJsonVersion(this.store, this.key);
      // Released between our write and this read: try again.
      if (!read) continue;
      const holder = read.value as LeaseRecord;
      const { etag } = read;
      if (!this.isStale(holder)) return { held: false, holder };
      try {
        this.etag = (
          await this.store.put(this.key, this.record(), {
            ifMatch: etag,
            contentType: 'application/json',
          })
        ).etag;
        return { held: true, tookOver: holder };
      } catch (error) {
        // Another taker won, the holder renewed, or it was released: look again.
        if (
          error instanceof PreconditionFailedError ||
          error instanceof ObjectNotFoundError ||
          error instanceof ConditionalConflictError
        ) {
          await backoff(attempt);
          continue;
        }
        throw error;
      }
    }
    throw new ConditionalConflictError(
      `${this.store.uri(this.key)}: still contended after ${MAX_ATTEMPTS} attempts`,
    );
  }

  /** Renews the heartbeat; false when the lease is no longer ours (it was taken over). */
  async renew(): Promise<boolean> {
    if (this.etag === undefined) return false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        this.etag = (
          await this.store.put(this.key, this.record(), {
            ifMatch: this.etag,
            contentType: 'application/json',
          })
        ).etag;
        return true;
      } catch (error) {
        if (error instanceof ConditionalConflictError) {
          await backoff(attempt);
          continue;
        }
        if (error instanceof PreconditionFailedError || error instanceof ObjectNotFoundError) {
          this.etag = undefined;
          return false;
        }
        throw error;
      }
    }
    return false;
  }

  /**
   * Renews every half period until stopped; `onLost` is called once if a renewal finds
   * the lease taken, or renewals keep failing for one and a half periods: the holder
   * gives up before others may see the lease stale (two periods), so two never hold it.
   * A renewal that fails once (an S3 500) is tried again at the next tick. The timer
   * never keeps the process alive.
   */
  keepAlive(onLost: (reason: string) => void): void {
    let renewedAt = Date.now();
    this.timer = setInterval(() => {
      if (this.renewing) return;
      this.renewing = this.renew().then(
        (ok) => {
          if (ok) {
            renewedAt = Date.now();
            return;
          }
          this.stop();
          onLost(`${this.store.uri(this.key)} was taken over by another invocation`);
        },
        (error: unknown) => {
          if (Date.now() - renewedAt < GIVE_UP_PERIODS * this.periodMs) return;
          this.stop();
          onLost(`${this.store.uri(this.key)} could not be renewed: ${String(error)}`);
        },
      );
      this.renewing = this.renewing.finally(() => {
        this.renewing = undefined;
      });
    }, this.periodMs / 2);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Gives the lease up, if it is still ours. */
  async release(): Promise<void> {
    this.stop();
    // A renewal that lands after the delete would bring the lease back; one that lands
    // between the read of our etag and the delete would make us keep it.
    await this.renewing;
    if (this.etag === undefined) return;
    try {
      if ((await this.store.head(this.key)).etag === this.etag) await this.store.delete(this.key);
    } catch (error) {
      if (!(error instanceof ObjectNotFoundError)) throw error;
    } finally {
      this.etag = undefined;
    }
  }
}
