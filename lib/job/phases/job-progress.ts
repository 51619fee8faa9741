/** Where a job is, as drivers report it (the CLI's progress bar, the RPC status record). */
export type JobPhase = 'map' | 'reduce' | 'finalize';

export interface JobProgress {
  phase: JobPhase;
  tasksDone: number;
  tasks: number;
  /** Map phase: stored bytes of the finished tasks, and of all. */
  bytesDone: number;
  bytes: number;
}
