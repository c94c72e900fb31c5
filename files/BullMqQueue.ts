import { type ConnectionOptions, Queue, UnrecoverableError, Worker } from 'bullmq';
import { AppError, withTimeout } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { type RedisTarget, redisOptions } from '../common/redis.ts';
import { type ConversionJob, type ConversionQueue, type ConversionQueueOptions, PermanentJobError } from './ConversionQueue.ts';

/**
 * Conversion jobs on Redis with BullMQ. A worker holds a job under a lock it renews; if its
 * process dies the lock lapses, BullMQ marks the job stalled and another worker takes it.
 */
export class BullMqQueue implements ConversionQueue {
  readonly #queue: Queue;
  #worker?: Worker;

  private readonly connection: { target: RedisTarget; prefix: string };
  private readonly options: ConversionQueueOptions & { workerName: string; lockMs?: number };
  private readonly logger: Logger;
  constructor(
    connection: { target: RedisTarget; prefix: string },
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
    const adding = this.#queue.add('convert', job, {
      jobId: job.fileId,
      attempts: this.options.attempts,
      backoff: { type: 'exponential', delay: 1000 },
      // The file record keeps the outcome; a settled job is only a key left behind.
      removeOnComplete: true,
      removeOnFail: true,
    });
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

  work(process: (job: ConversionJob, attempt: number) => Promise<void>): void {
    const lockMs = this.options.lockMs ?? 10_000;
    this.#worker = new Worker<ConversionJob>(
      'deck-conversion',
      async (job) => {
        try {
          await process(job.data, job.attemptsMade + 1);
        } catch (error) {
          if (error instanceof PermanentJobError) throw new UnrecoverableError(error.message);
          throw error;
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
    this.#worker.on('error', (error) => this.logger.error({ err: error }, 'conversion worker error'));
  }

  async close(): Promise<void> {
    await this.#worker?.close();
    await this.#queue.close();
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
