import { Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { type ConversionJob, type ConversionQueue, type ConversionQueueOptions, type JobProcessor, PermanentJobError } from './ConversionQueue.ts';

/** BullMQ's highest priority number (the lowest priority). */
const MAX_PRIORITY = 2_097_151;
/** A meeting's count of unfinished jobs outlives a worker that died without settling it by no more than this. */
const OUTSTANDING_TTL_MS = 24 * 3600_000;

/**
 * Conversion jobs on Redis with BullMQ. A worker holds a job under a lock it renews; if its
 * process dies the lock lapses, BullMQ marks the job stalled and another worker takes it.
 *
 * Fair between meetings: open-source BullMQ has no groups, so a job's priority is the number of
 * its meeting's unfinished jobs when it was added (BullMQ serves lower numbers first, equal ones
 * in order). A meeting's first deck therefore waits behind at most one deck of every other
 * meeting, never behind another meeting's whole pile.
 */
export class BullMqQueue implements ConversionQueue {
  readonly #queue: Queue;
  #worker?: Worker;

  private readonly connection: { url: string; prefix: string; client: Redis };
  private readonly options: ConversionQueueOptions & { workerName: string; lockMs?: number };
  private readonly logger: Logger;
  constructor(
    connection: { url: string; prefix: string; client: Redis },
    options: ConversionQueueOptions & { workerName: string; lockMs?: number },
    logger: Logger,
  ) {
    this.connection = connection;
    this.options = options;
    this.logger = logger;
    this.#queue = new Queue('deck-conversion', { connection: { url: connection.url }, prefix: `${connection.prefix}bull` });
  }

  async enqueue(job: ConversionJob): Promise<void> {
    const redis = this.connection.client;
    const key = this.#outstandingKey(job.meetingId);
    const [[, outstanding]] = (await redis.multi().incr(key).pexpire(key, OUTSTANDING_TTL_MS).exec()) as [[Error | null, number]];
    await this.#queue.add('convert', job, {
      jobId: job.fileId,
      priority: Math.min(MAX_PRIORITY, Math.max(1, outstanding)),
      attempts: this.options.attempts,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: 1000,
      removeOnFail: 1000,
    });
  }

  work(process: JobProcessor): void {
    const lockMs = this.options.lockMs ?? 10_000;
    this.#worker = new Worker<ConversionJob>(
      'deck-conversion',
      async (job, _token, cancelled) => {
        const attempt = job.attemptsMade + 1;
        // The attempt's own deadline, on top of BullMQ's cancellation: the slot is given back
        // only when the processor has stopped everything it started.
        const timeout = new AbortController();
        const timer = setTimeout(() => timeout.abort(new AppError('timeout', `conversion took longer than ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
        const signal = cancelled ? AbortSignal.any([cancelled, timeout.signal]) : timeout.signal;
        let final = true;
        try {
          await process(job.data, attempt, signal);
          if (signal.aborted) throw signal.reason;
        } catch (error) {
          if (error instanceof PermanentJobError) throw new UnrecoverableError(error.message);
          final = attempt >= (job.opts.attempts ?? 1);
          throw error;
        } finally {
          clearTimeout(timer);
          if (final) await this.#settle(job.data.meetingId);
        }
      },
      {
        connection: { url: this.connection.url },
        prefix: `${this.connection.prefix}bull`,
        concurrency: this.options.concurrency,
        name: this.options.workerName,
        lockDuration: lockMs,
        stalledInterval: lockMs,
        maxStalledCount: this.options.attempts,
      },
    );
    this.#worker.on('failed', (job, error) => this.logger.warn({ fileId: job?.data.fileId, attempt: job?.attemptsMade, err: error }, 'conversion attempt failed'));
    this.#worker.on('stalled', (jobId) => this.logger.warn({ fileId: jobId }, 'conversion stalled (its worker died?); it will be retried'));
    this.#worker.on('error', (error) => this.logger.error({ err: error }, 'conversion worker error'));
  }

  async close(): Promise<void> {
    await this.#worker?.close();
    await this.#queue.close();
  }

  /** A job of this meeting is finished for good: its later decks move up. */
  async #settle(meetingId: string): Promise<void> {
    try {
      const redis = this.connection.client;
      if ((await redis.decr(this.#outstandingKey(meetingId))) <= 0) await redis.del(this.#outstandingKey(meetingId));
    } catch (error) {
      this.logger.warn({ meetingId, err: error }, 'could not update the meeting’s count of queued decks');
    }
  }

  #outstandingKey(meetingId: string): string {
    return `${this.connection.prefix}files:queued:${meetingId}`;
  }
}
