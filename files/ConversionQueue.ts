/** A deck to convert; state travels with the job, so any worker can take it. */
export interface ConversionJob {
  fileId: string;
  meetingId: string;
}

/**
 * One attempt at a job. `signal` is aborted when the attempt's time is up (or its worker
 * closes): the processor must then stop everything it started before it settles.
 */
export type JobProcessor = (job: ConversionJob, attempt: number, signal: AbortSignal) => Promise<void>;

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
  work(process: JobProcessor): void;
  /** Whether jobs can be enqueued and taken now (readiness). */
  ready(): Promise<boolean>;
  /** Jobs waiting (including those waiting for a retry) and running now, queue-wide. */
  depth(): Promise<{ waiting: number; active: number }>;
  close(): Promise<void>;
}

export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentJobError';
  }
}
