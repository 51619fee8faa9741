/**
 * Requests a process made, by service and API operation ("s3:GetObject"): counted on
 * the SDK clients (every attempt, retries included, as AWS bills them) and by the file
 * store under the same names, so both backends report one structure.
 */

export type RequestCounts = Record<string, number>;

export class RequestMeter {
  private readonly counts = new Map<string, number>();

  add(operation: string, n = 1): void {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + n);
  }

  /** The counts so far; `since` turns two snapshots into what happened between them. */
  snapshot(): RequestCounts {
    return Object.fromEntries(this.counts);
  }
}

/** The requests in `now` that were not yet in `before`. */
export function since(now: RequestCounts, before: RequestCounts): RequestCounts {
  const out: RequestCounts = {};
  for (const [operation, n] of Object.entries(now)) {
    const delta = n - (before[operation] ?? 0);
    if (delta > 0) out[operation] = delta;
  }
  return out;
}

/** Adds `more` into `into`. */
export function addRequests(into: RequestCounts, more: RequestCounts): RequestCounts {
  for (const [operation, n] of Object.entries(more)) into[operation] = (into[operation] ?? 0) + n;
  return into;
}

/** The smallest client an SDK middleware can be added to. */
interface MiddlewareHost {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'deserialize'; name: string },
    ): void;
  };
}

/**
 * Counts every HTTP attempt of `client` as `service:Operation`. The deserialize step
 * runs inside the retry middleware, once per attempt.
 */
export function meterClient(client: unknown, service: string, meter: RequestMeter): void {
  (client as MiddlewareHost).middlewareStack.add(
    (next, context) => (args) => {
      meter.add(`${service}:${(context.commandName ?? 'Unknown').replace(/Command$/, '')}`);
      return next(args);
    },
    { step: 'deserialize', name: 'wordcountRequestMeter' },
  );
}
