/**
 * A job's cost from its usage: invocations and GB-seconds per function, S3 requests by
 * type, SQS requests, and an estimate in USD from a price table. On the embedded backend
 * the same structure, with the process's CPU seconds and no dollars. Pure but for the
 * driver's own measure, which finishCost takes as it ends.
 */
import { DEFAULT_PRICES, type Prices } from './prices.js';
import { addUsage, type TaskUsage, type UsageTally } from './usage.js';

export type S3RequestType =
  | 'get'
  | 'head'
  | 'list'
  | 'put'
  | 'copy'
  | 'multipart'
  | 'parts'
  | 'delete'
  | 'other';

const S3_TYPES: Record<string, S3RequestType> = {
  GetObject: 'get',
  HeadObject: 'head',
  ListObjectsV2: 'list',
  ListObjects: 'list',
  PutObject: 'put',
  CopyObject: 'copy',
  CreateMultipartUpload: 'multipart',
  CompleteMultipartUpload: 'multipart',
  UploadPart: 'parts',
  UploadPartCopy: 'parts',
  DeleteObject: 'delete',
  DeleteObjects: 'delete',
  AbortMultipartUpload: 'delete',
};

/** Billed at S3's PUT/COPY/POST/LIST price; get, head and other at the GET price; delete free. */
const S3_WRITE_TYPES: readonly S3RequestType[] = ['put', 'copy', 'list', 'multipart', 'parts'];
const S3_READ_TYPES: readonly S3RequestType[] = ['get', 'head', 'other'];

export interface JobCost {
  backend: 'lambda' | 'embedded';
  functions: Record<string, { invocations: number; billedMs: number; gbSeconds: number }>;
  /** GB-seconds of every function together. */
  gbSeconds: number;
  /** Embedded backend: CPU time of the process, all its threads. */
  cpuSeconds?: number;
  requests: {
    s3: Record<S3RequestType, number>;
    sqs: number;
  };
  retries: number;
  /** The price table of the estimate (absent on the embedded backend). */
  prices?: Prices;
  usd: { lambdaCompute: number; lambdaRequests: number; s3: number; sqs: number; total: number };
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

export function s3RequestsOf(requests: Record<string, number>): Record<S3RequestType, number> {
  const out: Record<S3RequestType, number> = {
    get: 0,
    head: 0,
    list: 0,
    put: 0,
    copy: 0,
    multipart: 0,
    parts: 0,
    delete: 0,
    other: 0,
  };
  for (const [operation, n] of Object.entries(requests)) {
    const [service, name = ''] = operation.split(':');
    if (service === 's3') out[S3_TYPES[name] ?? 'other'] += n;
  }
  return out;
}

export function costOf(
  tally: UsageTally,
  how: { backend: 'lambda'; prices: Prices } | { backend: 'embedded'; cpuSeconds: number },
): JobCost {
  const functions = Object.fromEntries(
    Object.entries(tally.functions).map(([fn, u]) => [
      fn,
      { invocations: u.invocations, billedMs: u.billedMs, gbSeconds: round(u.gbSeconds, 6) },
    ]),
  );
  const gbSeconds = Object.values(tally.functions).reduce((sum, u) => sum + u.gbSeconds, 0);
  const invocations = Object.values(tally.functions).reduce((sum, u) => sum + u.invocations, 0);
  const s3 = s3RequestsOf(tally.requests);
  const sqs = Object.entries(tally.requests)
    .filter(([operation]) => operation.startsWith('sqs:'))
    .reduce((sum, [, n]) => sum + n, 0);
  const base = {
    functions,
    gbSeconds: round(gbSeconds, 6),
    requests: { s3, sqs },
    retries: tally.retries,
  };
  if (how.backend === 'embedded') {
    return {
      backend: 'embedded',
      ...base,
      cpuSeconds: round(how.cpuSeconds, 3),
      usd: { lambdaCompute: 0, lambdaRequests: 0, s3: 0, sqs: 0, total: 0 },
    };
  }
  const { prices } = how;
  const sum = (types: readonly S3RequestType[]) => types.reduce((n, t) => n + s3[t], 0);
  const usd = {
    lambdaCompute: gbSeconds * prices.lambdaGbSecond,
    lambdaRequests: invocations * prices.lambdaRequest,
    s3: sum(S3_WRITE_TYPES) * prices.s3WriteRequest + sum(S3_READ_TYPES) * prices.s3ReadRequest,
    sqs: sqs * prices.sqsRequest,
  };
  const total = usd.lambdaCompute + usd.lambdaRequests + usd.s3 + usd.sqs;
  return {
    backend: 'lambda',
    ...base,
    prices,
    usd: {
      lambdaCompute: round(usd.lambdaCompute, 9),
      lambdaRequests: round(usd.lambdaRequests, 9),
      s3: round(usd.s3, 9),
      sqs: round(usd.sqs, 9),
      total: round(total, 9),
    },
  };
}

/** How a driver reckons its job's cost: the backend, its prices, and its own use. */
export interface CostSetup {
  backend: 'lambda' | 'embedded';
  /** Lambda: the price table (DEFAULT_PRICES when absent). */
  prices?: Prices;
  /** What the driver's own use is reported as ('orchestrator', 'driver'). */
  driverName: string;
  /** Started when the driver began on the job: what it used since. */
  driver: () => TaskUsage;
  /** Embedded backend: CPU seconds of this process, all threads, since the job began. */
  cpuSeconds?: () => number;
}

/** The job's cost: the tasks' usage in `tally`, and the driver's, added now. */
export function finishCost(setup: CostSetup, tally: UsageTally): JobCost {
  addUsage(tally, setup.driverName, setup.driver());
  return setup.backend === 'lambda'
    ? costOf(tally, { backend: 'lambda', prices: setup.prices ?? DEFAULT_PRICES })
    : costOf(tally, { backend: 'embedded', cpuSeconds: setup.cpuSeconds?.() ?? 0 });
}
