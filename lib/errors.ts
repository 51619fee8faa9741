/** The error family of wordcount-fanout; adapters translate SDK and system errors into these. */
export class WordcountError extends Error {
  override name = 'WordcountError';
  /** The job whose status already records this error as its ending (nothing more to write). */
  recordedAs?: string;
}

/** The user asked for something malformed: an option, an argument, a payload. */
export class UsageError extends WordcountError {
  override name = 'UsageError';
}

/**
 * The deployment is wrong (a function without the queue or counter its coordination
 * needs): not the request's fault, so an upload is not refused for it, and its event is
 * retried (then recorded failed) rather than dropped.
 */
export class ConfigurationError extends WordcountError {
  override name = 'ConfigurationError';
}

/** An object (file or S3 key) that does not exist or cannot be read as an object. */
export class ObjectNotFoundError extends WordcountError {
  override name = 'ObjectNotFoundError';
  constructor(
    readonly uri: string,
    reason = 'no such object',
    options?: ErrorOptions,
  ) {
    super(`${uri}: ${reason}`, options);
  }
}

/** A conditional write lost: the object already exists or changed. */
export class PreconditionFailedError extends WordcountError {
  override name = 'PreconditionFailedError';
}

/**
 * Two conditional writes of one key raced and S3 answered `409 ConditionalRequestConflict`:
 * neither lost yet, the write should be tried again.
 */
export class ConditionalConflictError extends WordcountError {
  override name = 'ConditionalConflictError';
}

/** A payload crossing a process boundary does not match its schema. */
export class InvalidPayloadError extends WordcountError {
  override name = 'InvalidPayloadError';
}

/** A partial count (a map output, a shard) that does not parse: a bug or a foreign object. */
export class MalformedPartialError extends WordcountError {
  override name = 'MalformedPartialError';
}

/** An input object that cannot be decoded as what it claims to be (a corrupt gzip stream). */
export class CorruptInputError extends WordcountError {
  override name = 'CorruptInputError';
}

/** A record that is not what its format says (a line that is not JSON), in a strict job. */
export class InvalidRecordError extends WordcountError {
  override name = 'InvalidRecordError';
}

/** A function invocation failed (after its retries); carries the function's own message. */
export class InvocationError extends WordcountError {
  override name = 'InvocationError';
  constructor(
    readonly functionName: string,
    message: string,
    readonly retryable = false,
    options?: ErrorOptions,
  ) {
    super(`${functionName}: ${message}`, options);
  }
}

/**
 * The job is being run by another live invocation (its claim's heartbeat is fresh).
 * Retryable: by the time a retry comes, that invocation has finished or its claim is stale.
 */
export class JobBusyError extends WordcountError {
  override name = 'JobBusyError';
}

/** A task ran until its function's deadline: the function is stopped for it. */
export class TaskTimeoutError extends WordcountError {
  override name = 'TaskTimeoutError';
}

/** A counting job failed; nothing was published. */
export class JobFailedError extends WordcountError {
  override name = 'JobFailedError';
}

/** Errors of a task that a retry would only repeat: the input, not the run. */
export const DETERMINISTIC_ERRORS: ReadonlySet<string> = new Set([
  'UsageError',
  'InvalidPayloadError',
  'ObjectNotFoundError',
  'PreconditionFailedError',
  'CorruptInputError',
  'InvalidRecordError',
  'MalformedPartialError',
]);

/**
 * The type a task failed with: its own name, or the one an invocation reports at the
 * head of its message (`function: CorruptInputError: ...`).
 */
export function taskErrorType(error: unknown): string {
  if (!(error instanceof Error)) return 'Error';
  if (!(error instanceof InvocationError)) return error.name;
  const rest = error.message.slice(error.functionName.length + 2);
  return /^([A-Za-z]+Error): /.exec(rest)?.[1] ?? error.name;
}

/** A task's failure as `Type: message`, however it reached us (in process, a worker, Lambda). */
export function describeTaskError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const message =
    error instanceof InvocationError
      ? error.message.slice(error.functionName.length + 2)
      : error.message;
  const type = taskErrorType(error);
  return message.startsWith(`${type}: `) ? message : `${type}: ${message}`;
}

/** True when a task's failure would recur on every retry. */
export function isDeterministic(error: unknown): boolean {
  return DETERMINISTIC_ERRORS.has(taskErrorType(error));
}

/** The message of any thrown value, for one-line reports. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The error with its name leading its message, as callers of a function read it: Lambda
 * reports the name as the errorType, but emulators report every error as
 * Runtime.HandlerError, and a caller decides from the name whether to retry.
 */
export function namedError(error: unknown): unknown {
  if (error instanceof Error && !error.message.startsWith(`${error.name}: `)) {
    error.message = `${error.name}: ${error.message}`;
  }
  return error;
}
