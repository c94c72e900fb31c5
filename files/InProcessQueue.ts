import { withTimeout } from '../common/errors.ts';
import { type ConversionJob, type ConversionQueue, type ConversionQueueOptions, PermanentJobError } from './ConversionQueue.ts';

/** The embedded mode's queue: same attempts, timeout and concurrency as BullMQ's, in memory. */
export class InProcessQueue implements ConversionQueue {
  readonly #pending: Array<{ job: ConversionJob; attempt: number }> = [];
  #process?: (job: ConversionJob, attempt: number) => Promise<void>;
  #running = 0;
  #closed = false;

  private readonly options: ConversionQueueOptions;
  constructor(options: ConversionQueueOptions) {
    this.options = options;
  }

  async enqueue(job: ConversionJob): Promise<void> {
    this.#pending.push({ job, attempt: 1 });
    this.#pump();
  }

  work(process: (job: ConversionJob, attempt: number) => Promise<void>): void {
    this.#process = process;
    this.#pump();
  }

  async ready(): Promise<boolean> {
    return !this.#closed;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #pump(): void {
    while (!this.#closed && this.#process && this.#running < this.options.concurrency && this.#pending.length > 0) {
      const next = this.#pending.shift()!;
      this.#running++;
      withTimeout(this.#process(next.job, next.attempt), this.options.timeoutMs, 'conversion')
        .catch((error: unknown) => {
          if (error instanceof PermanentJobError || next.attempt >= this.options.attempts) return;
          // Back off as BullMQ's exponential setting does, then try again.
          setTimeout(() => {
            this.#pending.push({ job: next.job, attempt: next.attempt + 1 });
            this.#pump();
          }, 1000 * 2 ** (next.attempt - 1)).unref();
        })
        .finally(() => {
          this.#running--;
          this.#pump();
        });
    }
  }
}
