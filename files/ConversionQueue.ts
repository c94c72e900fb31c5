/** A deck to convert; state travels with the job, so any worker can take it. */
export interface ConversionJob {
  fileId: string;
  meetingId: string;
}

export type JobOutcome = { retry: false } | { retry: true; error: Error };

export interface ConversionQueueOptions {
  attempts: number;
  timeoutMs: number;
  concurrency: number;
}

/**
 * Conversion jobs: BullMQ on Redis when there is one (workers on any files node, a crashed
 * worker's job retried elsewhere), an in-process queue with the same limits otherwise.
 */
export interface ConversionQueue {
  enqueue(job: ConversionJob): Promise<void>;
  /** Starts taking jobs; `process` throws to fail the attempt, `PermanentJobError` to give up. */
  work(process: (job: ConversionJob, attempt: number) => Promise<void>): void;
  /** Whether jobs can be enqueued and taken now (readiness). */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentJobError';
  }
}
