import { AppError } from '../common/errors.ts';
import { type ConversionJob, type ConversionQueue, type ConversionQueueOptions, type JobProcessor, PermanentJobError } from './ConversionQueue.ts';

interface Pending {
  job: ConversionJob;
  attempt: number;
}

/**
 * The embedded mode's queue: same attempts, timeout and concurrency as BullMQ's, in memory.
 * Jobs wait in one line per meeting and the lines are served in turn, so one meeting's pile of
 * decks never holds back another meeting's first one.
 */
export class InProcessQueue implements ConversionQueue {
  /** Meeting id → its waiting jobs; Map order is the round-robin order. */
  readonly #lines = new Map<string, Pending[]>();
  #process?: JobProcessor;
  #running = 0;
  #closed = false;

  private readonly options: ConversionQueueOptions;
  constructor(options: ConversionQueueOptions) {
    this.options = options;
  }

  async enqueue(job: ConversionJob): Promise<void> {
    this.#add({ job, attempt: 1 });
    this.#pump();
  }

  work(process: JobProcessor): void {
    this.#process = process;
    this.#pump();
  }

  async ready(): Promise<boolean> {
    return !this.#closed;
  }

  async depth(): Promise<{ waiting: number; active: number }> {
    let waiting = 0;
    for (const line of this.#lines.values()) waiting += line.length;
    return { waiting, active: this.#running };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #add(pending: Pending): void {
    const line = this.#lines.get(pending.job.meetingId);
    if (line) line.push(pending);
    else this.#lines.set(pending.job.meetingId, [pending]);
  }

  /** The first job of the meeting whose turn it is; that meeting goes to the back. */
  #next(): Pending | undefined {
    const first = this.#lines.entries().next();
    if (first.done) return undefined;
    const [meetingId, line] = first.value;
    const next = line.shift()!;
    this.#lines.delete(meetingId);
    if (line.length > 0) this.#lines.set(meetingId, line);
    return next;
  }

  #pump(): void {
    while (!this.#closed && this.#process && this.#running < this.options.concurrency) {
      const next = this.#next();
      if (!next) return;
      this.#running++;
      this.#attempt(this.#process, next)
        .catch((error: unknown) => {
          if (error instanceof PermanentJobError || next.attempt >= this.options.attempts) return;
          // Back off as BullMQ's exponential setting does, then try again.
          setTimeout(() => {
            this.#add({ job: next.job, attempt: next.attempt + 1 });
            this.#pump();
          }, 1000 * 2 ** (next.attempt - 1)).unref();
        })
        .finally(() => {
          this.#running--;
          this.#pump();
        });
    }
  }

  /**
   * One attempt under the job timeout. At the timeout the processor is told to stop (it kills
   * its tools) and its slot is freed only once it has: a timed-out job never runs beside the
   * next one, so the concurrency setting holds.
   */
  async #attempt(process: JobProcessor, pending: Pending): Promise<void> {
    const cancel = new AbortController();
    const timer = setTimeout(() => cancel.abort(new AppError('timeout', `conversion took longer than ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    try {
      await process(pending.job, pending.attempt, cancel.signal);
    } finally {
      clearTimeout(timer);
    }
    if (cancel.signal.aborted) throw cancel.signal.reason;
  }
}
