/** The two outside capabilities the job needs; adapters/ implements each twice. */

export interface ObjectInfo {
  key: string;
  /** Where the object is, for messages and the summary: a path or s3://bucket/key. */
  uri: string;
  size: number;
  /** Changes whenever the content does: S3's ETag, a file's size and mtime. */
  etag: string;
  /** When it was last written (S3's LastModified, a file's mtime), where the store says. */
  modifiedAt?: Date;
  /** User metadata written with the object (S3 `x-amz-meta-*`); from head() only. */
  metadata?: Record<string, string>;
}

export interface ReadRangeOptions {
  start: number;
  /** Exclusive; the object's end when absent. */
  end?: number;
  /** Preferred piece size; a hint. */
  pieceSize?: number;
  /** Fail with PreconditionFailedError unless the object still has this etag. */
  ifMatch?: string;
}

export interface PutOptions {
  /** Fail with PreconditionFailedError if the key exists (S3 `If-None-Match: *`). */
  ifNoneMatch?: boolean;
  /** Fail with PreconditionFailedError unless the key exists with this etag (S3 `If-Match`). */
  ifMatch?: string;
  contentType?: string;
  /** Small user metadata kept with the object (lower-case names). */
  metadata?: Record<string, string>;
}

export interface ListOptions {
  /** Only keys after this one in UTF-8 byte order (S3's StartAfter); it need not exist. */
  startAfter?: string;
}

export interface PutResult {
  /** The etag of what was written: the If-Match of a later conditional write. */
  etag: string;
}

export type Body =
  | string
  | Uint8Array
  | Iterable<string | Uint8Array>
  | AsyncIterable<string | Uint8Array>;

/** Keys are relative to one bucket (S3) or root directory (files). */
export interface ObjectStore {
  uri(key: string): string;
  /** Throws ObjectNotFoundError when the key is missing or not an object. */
  head(key: string): Promise<ObjectInfo>;
  /**
   * Every object whose key starts with `prefix`, in pages as the backend gives them (a
   * directory tree: regular files only, symbolic links not followed), in key order. The
   * same key, size and etag as head() gives; a page is requested as the reader gets there.
   */
  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo>;
  /** Streams bytes of [start, end) in order, lazily: stop iterating to stop reading. */
  readRange(key: string, options: ReadRangeOptions): AsyncIterable<Uint8Array>;
  get(key: string): Promise<Uint8Array>;
  /** The object and the etag of what was read, in one request (a compare-and-swap's read). */
  getVersion(key: string): Promise<{ body: Uint8Array; etag: string }>;
  put(key: string, body: Body, options?: PutOptions): Promise<PutResult>;
  /** Copies `from` to `to` within the store (server-side on S3), with new metadata. */
  copy(
    from: string,
    to: string,
    options?: Pick<PutOptions, 'contentType' | 'metadata'>,
  ): Promise<void>;
  /**
   * Removes the key; removing a missing key is not an error, unless `ifMatch` is given:
   * then only the object with that etag is removed (PreconditionFailedError when it
   * changed, ObjectNotFoundError when it is gone).
   */
  delete(key: string, options?: { ifMatch?: string }): Promise<void>;
  /**
   * Removes every key given (missing ones are not an error): on S3 up to 1,000 keys a
   * DeleteObjects request, so clearing a job of 100,000 tasks is 200 requests, not 200,000.
   */
  deleteMany(keys: readonly string[]): Promise<void>;
}

/**
 * A queue of task messages (SQS; in-process on the embedded backend). Delivery is at
 * least once: a message may come twice, and comes again until it is acknowledged.
 */
export interface TaskQueue {
  /** Sends JSON messages, in batches as the queue takes them; `delaySeconds` holds them back. */
  send(messages: readonly unknown[], options?: { delaySeconds?: number }): Promise<void>;
  /**
   * About how many messages wait to be received (visible or delayed; SQS's approximate
   * counts): a backlog, which the watchdog does not take for lost messages.
   */
  waiting?(): Promise<number>;
}

/** Runs a named function with a JSON payload and returns its JSON result. */
export interface FunctionRunner {
  /** Invocations sent again so far (the job's retries), where the runner retries. */
  readonly retries?: number;
  invoke(functionName: string, payload: unknown): Promise<unknown>;
  close(): Promise<void>;
}
