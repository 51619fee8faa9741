/**
 * How lib/ reports what happened: one line per phase transition, retry or notable
 * event (never per token), with the fields a reader filters on. functions/ writes them
 * as JSON lines (Powertools Logger); tests may collect them.
 */
export interface LogFields {
  jobId?: string;
  phase?: string;
  /** The task's index in its phase. */
  task?: number;
  attempt?: string;
  [key: string]: unknown;
}

export type Log = (message: string, fields?: LogFields) => void;
