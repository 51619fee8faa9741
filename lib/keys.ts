/**
 * Every S3 key the system reads or writes, built in one place. Users upload under
 * input/; the system writes only under output/, results/ and jobs/, so its own writes
 * never trigger a job.
 *
 * Output naming: each kind of input has a namespace of its own, so two different
 * inputs never publish to the same key.
 *   input/REL (an object or a manifest)   → output/REL.json, output/REL.counts.tsv
 *   another key K (direct invocation)     → results/key/K.json, …
 *   a prefix P (direct invocation)        → results/prefix/Pindex.json, …
 *   a list of keys (direct invocation)    → results/keys/DIGEST.json, … (DIGEST of the sorted list)
 */
import { createHash } from 'node:crypto';
import { UsageError } from './errors.js';

export const INPUT_PREFIX = 'input/';
export const OUTPUT_PREFIX = 'output/';
export const RESULTS_PREFIX = 'results/';
export const JOBS_PREFIX = 'jobs/';
export const MANIFEST_SUFFIX = '.manifest.json';

/**
 * Bumped whenever counting rules change, so a job id never answers with old counts (4:
 * objects are read as their formats, JSON Lines, Parquet and WARC no longer as text; 5:
 * words mode's default segmenter, auto, gives Chinese runs to jieba instead of ICU).
 */
export const COUNTING_RULES_VERSION = 5;

/** The part of an input key after input/ (the whole key when it is elsewhere). */
export function relativeName(key: string): string {
  return key.startsWith(INPUT_PREFIX) ? key.slice(INPUT_PREFIX.length) : key;
}

/** An upload that describes a job over other objects rather than text to count. */
export function isManifestKey(key: string): boolean {
  return key.startsWith(INPUT_PREFIX) && key.endsWith(MANIFEST_SUFFIX);
}

/** Keys a prefix job never counts: what the system writes, and manifests. */
export function isExcludedFromListing(key: string): boolean {
  return (
    key.startsWith(OUTPUT_PREFIX) ||
    key.startsWith(RESULTS_PREFIX) ||
    key.startsWith(JOBS_PREFIX) ||
    isManifestKey(key)
  );
}

/** What a job was asked to count, which decides where its output goes. */
export type InputName =
  | { kind: 'key'; key: string }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'keys'; keys: readonly string[] };

function digest(parts: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/** The input as an s3:// URI, for messages. */
export function inputUri(bucket: string, input: InputName): string {
  const of = (key: string) => `s3://${bucket}/${key}`;
  if (input.kind === 'key') return of(input.key);
  if (input.kind === 'prefix') return of(input.prefix);
  const [first = ''] = input.keys;
  return input.keys.length === 1
    ? of(first)
    : `${of(first)} and ${input.keys.length - 1} more key(s)`;
}

/** The key both output files start with; see the module comment. */
export function outputBase(input: InputName): string {
  switch (input.kind) {
    case 'key':
      return input.key.startsWith(INPUT_PREFIX)
        ? `${OUTPUT_PREFIX}${relativeName(input.key)}`
        : `${RESULTS_PREFIX}key/${input.key}`;
    case 'prefix':
      return `${RESULTS_PREFIX}prefix/${input.prefix}index`;
    case 'keys':
      return `${RESULTS_PREFIX}keys/${digest([...new Set(input.keys)].sort())}`;
  }
}

export function outputKeys(input: InputName): { summary: string; counts: string; report: string } {
  const base = outputBase(input);
  return {
    summary: `${base}.json`,
    counts: `${base}.counts.tsv`,
    report: `${base}.report.html`,
  };
}

/** Same object versions and options → same id, so a repeated trigger finds its job. */
export function jobIdFor(parts: {
  bucket: string;
  input: InputName;
  objects: readonly { key: string; etag: string }[];
  mode: string;
  chunkSize: number;
  /** How the objects are read, when not the defaults. */
  records?: {
    format?: string;
    field?: string;
    strict?: boolean;
    segmenter?: string;
    ngram?: number;
    docFreq?: boolean;
  };
  /** Top words the published summary keeps, when an upload asks for other than the default. */
  top?: number;
  /** The least count a published word has, when the job prunes (above 1). */
  minCount?: number;
}): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify([COUNTING_RULES_VERSION, parts.bucket, outputBase(parts.input)]));
  hash.update(JSON.stringify([parts.mode, parts.chunkSize]));
  const { format, field, strict } = parts.records ?? {};
  // Absent options leave the ids of jobs from before formats as they were.
  if (format !== undefined || field !== undefined || strict) {
    hash.update(JSON.stringify(['records', format ?? 'auto', field ?? 'text', strict === true]));
  }
  // The segmenter changes counts; absent (auto, the default) leaves ids as they were.
  const { segmenter } = parts.records ?? {};
  if (segmenter !== undefined && segmenter !== 'auto') {
    hash.update(JSON.stringify(['segmenter', segmenter]));
  }
  // n-grams are other counts; absent (1, single tokens) leaves ids as they were.
  const { ngram } = parts.records ?? {};
  if (ngram !== undefined && ngram > 1) hash.update(JSON.stringify(['ngram', ngram]));
  if (parts.records?.docFreq) hash.update(JSON.stringify(['docFreq', true]));
  if (parts.top !== undefined) hash.update(JSON.stringify(['top', parts.top]));
  // Absent (or 1, every word kept) leaves the ids of jobs from before it as they were.
  if (parts.minCount !== undefined && parts.minCount > 1) {
    hash.update(JSON.stringify(['minCount', parts.minCount]));
  }
  for (const o of parts.objects) hash.update(JSON.stringify([o.key, o.etag]));
  return hash.digest('hex').slice(0, 32);
}

/** One string that changes whenever any object of the input does: its version. */
export function inputEtag(objects: readonly { key: string; etag: string }[]): string {
  if (objects.length === 1) return (objects[0] as { etag: string }).etag;
  const hash = createHash('sha256');
  for (const o of objects) hash.update(JSON.stringify([o.key, o.etag]));
  return `${objects.length}-${hash.digest('hex').slice(0, 32)}`;
}

export function jobPrefix(jobId: string): string {
  return `${JOBS_PREFIX}${jobId}/`;
}

export function statusKey(jobId: string): string {
  return `${jobPrefix(jobId)}status.json`;
}

export function claimKey(jobId: string): string {
  return `${jobPrefix(jobId)}claim.json`;
}

/** The lock publishers of one output take turns on (see job/publish.ts). */
export function publishLockKey(summaryKey: string): string {
  return `${JOBS_PREFIX}publish/${summaryKey}`;
}

/** Jobs that started and have not ended: what the watchdog sweeps. */
export const ACTIVE_JOBS_PREFIX = `${JOBS_PREFIX}active/`;

export function activeJobKey(jobId: string): string {
  return `${ACTIVE_JOBS_PREFIX}${jobId}.json`;
}

/** Which job last started for an output: what `wordcount status` reads. */
export function latestJobKey(summaryKey: string): string {
  return `${JOBS_PREFIX}latest/${summaryKey}`;
}

/** Where one attempt of a job keeps its scratch, staged counts and (queue) ledger. */
export function attemptPrefix(jobId: string, attempt: string): string {
  return `${jobPrefix(jobId)}attempts/${attempt}/`;
}

/**
 * Tasks per commit group: a group's commits are one listing page (S3 pages 1,000 keys),
 * and a phase of 100,000 tasks has 1,000 groups, one page too.
 */
export const COMMIT_GROUP = 100;

/** An attempt's ledger (queue coordination), under its prefix `attemptPrefix(jobId, attempt)`. */
export const ledgerKeys = {
  /** What tasks need to go from phase to phase. */
  job: (attempt: string) => `${attempt}job.json`,
  /** The counts file, staged until it is published. */
  counts: (attempt: string) => `${attempt}counts.tsv`,
  phase: (attempt: string, phase: string) => `${attempt}phases/${phase}.json`,
  phaseLease: (attempt: string, phase: string) => `${attempt}phases/${phase}.lease`,
  commits: (attempt: string, phase: string) => `${attempt}commits/${phase}/`,
  /** Task `index`'s commit, in its group's folder (COMMIT_GROUP tasks each). */
  commit: (attempt: string, phase: string, index: number) =>
    `${attempt}commits/${phase}/${Math.floor(index / COMMIT_GROUP)}/${index}.json`,
  commitGroup: (attempt: string, phase: string, group: number) =>
    `${attempt}commits/${phase}/${group}/`,
  /** Written once every task of the group committed: what tells a phase complete. */
  groups: (attempt: string, phase: string) => `${attempt}groups/${phase}/`,
  group: (attempt: string, phase: string, group: number) =>
    `${attempt}groups/${phase}/${group}.json`,
  /** Every request of a phase, one JSON line each. */
  phaseRequests: (attempt: string, phase: string) => `${attempt}requests/${phase}.ndjson`,
  /** A request too big for its message. */
  taskRequest: (attempt: string, phase: string, index: number) =>
    `${attempt}requests/${phase}/${index}.json`,
  runs: (attempt: string, phase: string, index: number) => `${attempt}runs/${phase}/${index}/`,
  lastError: (attempt: string, phase: string, index: number) =>
    `${attempt}errors/${phase}-${index}.json`,
  stepError: (attempt: string, phase: string) => `${attempt}errors/after-${phase}.json`,
  watch: (attempt: string) => `${attempt}watch.json`,
};

/** Where map task `index` spills; its parts are `mapSpillPart(prefix, n)`. */
export function mapSpillPrefix(workPrefix: string, index: number | string): string {
  return `${workPrefix}map/${index}/`;
}

export function mapSpillPart(spillPrefix: string, part: number | string): string {
  return `${spillPrefix}${part}.tsv`;
}

/** The sorted shard of reduce task `index`. */
export function shardKey(workPrefix: string, index: number): string {
  return `${workPrefix}reduce/${index}.tsv`;
}

/** Part `index` of the counts file, merged by a finalize task. */
export function finalPartKey(workPrefix: string, index: number): string {
  return `${workPrefix}final/${index}.tsv`;
}

/** S3 event keys arrive form-encoded: `+` is a space, the rest percent-escapes. */
export function decodeS3Key(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch (error) {
    throw new UsageError(`S3 event key '${raw}' is not valid percent-encoding`, { cause: error });
  }
}

/** A key ending in `/`: what the S3 console's "Create folder" uploads, never an input. */
export function isFolderKey(key: string): boolean {
  return key.endsWith('/');
}

/**
 * The objects an S3 notification reports as created, keys decoded; other events and
 * folder placeholders are skipped.
 */
export function createdObjects(event: {
  Records: readonly {
    eventName: string;
    s3: {
      bucket: { name: string };
      object: { key: string; eTag?: string; sequencer?: string };
    };
  }[];
}): { bucket: string; key: string; version: string }[] {
  return event.Records.filter((r) => r.eventName.startsWith('ObjectCreated:'))
    .map((r) => ({
      bucket: r.s3.bucket.name,
      key: decodeS3Key(r.s3.object.key),
      // Which upload it was: what a refusal of it is recorded under.
      version: r.s3.object.sequencer ?? r.s3.object.eTag ?? '',
    }))
    .filter((o) => !isFolderKey(o.key));
}
