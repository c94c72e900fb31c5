import { type ConnectionOptions, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError, withTimeout } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { type RedisTarget, redisOptions } from '../common/redis.ts';
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

  private readonly connection: { target: RedisTarget; prefix: string; client: Redis };
  private readonly options: ConversionQueueOptions & { workerName: string; lockMs?: number };
  private readonly logger: Logger;
  constructor(
    connection: { target: RedisTarget; prefix: string; client: Redis },
    options: ConversionQueueOptions & { workerName: string; lockMs?: number },
    logger: Logger,
  ) {
    this.connection = connection;
    this.options = options;
    this.logger = logger;
    this.#queue = new Queue('deck-conversion', { connection: bullConnection(connection.target), prefix: `${connection.prefix}bull` });
    // Without a listener BullMQ prints every reconnect attempt of a Redis outage to stderr.
    this.#queue.on('error', (error) => this.logger.warn({ err: error }, 'conversion queue Redis connection error'));
  }

  /** During an outage BullMQ would queue the command until Redis returns: answer 503 instead. */
  async enqueue(job: ConversionJob): Promise<void> {
    if (!(await this.ready())) throw new AppError('store_unavailable', 'the conversion queue is unreachable; retry shortly');
    const adding = this.#outstanding(job.meetingId).then((outstanding) =>
      this.#queue.add('convert', job, {
        jobId: job.fileId,
        priority: Math.min(MAX_PRIORITY, Math.max(1, outstanding)),
        attempts: this.options.attempts,
        backoff: { type: 'exponential', delay: 1000 },
        // The file record keeps the outcome; a settled job is only a key left behind.
        removeOnComplete: true,
        removeOnFail: true,
      }),
    );
    await withTimeout(adding, 2000, 'enqueueing the conversion').catch((error: unknown) => {
      throw error instanceof AppError && error.code !== 'timeout' ? error : new AppError('store_unavailable', 'the conversion queue is unreachable; retry shortly');
    });
  }

  /** The queue answers a command within a second (readiness of the files role). */
  async ready(): Promise<boolean> {
    return withTimeout(this.#queue.count(), 1000, 'the conversion queue').then(
      () => true,
      () => false,
    );
  }

  async depth(): Promise<{ waiting: number; active: number }> {
    const counts = await withTimeout(this.#queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active'), 1000, 'counting conversion jobs');
    return { waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0), active: counts.active ?? 0 };
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
        connection: bullConnection(this.connection.target),
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
    // Connection errors during an outage or failover: BullMQ reconnects by itself.
    this.#worker.on('error', (error) => this.logger.warn({ err: error }, 'conversion worker error'));
  }

  async close(): Promise<void> {
    await this.#worker?.close();
    await this.#queue.close();
  }

  /** Counts the meeting's new job in and answers how many it now has unfinished. */
  async #outstanding(meetingId: string): Promise<number> {
    const key = this.#outstandingKey(meetingId);
    const [[, outstanding]] = (await this.connection.client.multi().incr(key).pexpire(key, OUTSTANDING_TTL_MS).exec()) as [[Error | null, number]];
    return outstanding;
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

/**
 * BullMQ makes its own connections (a blocking one per worker) from these options. Its own
 * retry strategy backs off to 20 s between attempts; ours keeps trying every 2 s at most, so
 * the queue is back as soon as a failover is over, like every other connection.
 */
function bullConnection(target: RedisTarget): ConnectionOptions {
  return { ...redisOptions(target), retryStrategy: (attempt: number) => Math.min(attempt * 100, 2000) };
}
