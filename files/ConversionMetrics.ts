import type { Registry } from 'prom-client';
import type { Logger } from '../common/logger.ts';
import { counter, gauge, histogram, WAIT_BUCKETS } from '../common/metrics.ts';
import { type ConversionQueue, type JobProcessor, PermanentJobError } from './ConversionQueue.ts';

/**
 * Conversion metrics: the queue's depth (read from the queue when scraped, queue-wide: every
 * process with the queue reports the same), and each attempt's duration and outcome, measured
 * around the processor so that BullMQ and the in-process queue count alike.
 */
export class ConversionMetrics {
  readonly #seconds;
  readonly #failures;

  constructor(queue: ConversionQueue, registry: Registry, logger: Logger) {
    let last = { waiting: 0, active: 0 };
    gauge(registry, {
      name: 'convene_conversion_queue_depth',
      help: 'Deck conversion jobs in the queue, by state (waiting: not started or waiting for a retry; active: converting now); queue-wide',
      labelNames: ['state'] as const,
      async collect() {
        last = await queue.depth().catch((error: unknown) => {
          logger.warn({ err: error }, 'could not read the conversion queue depth; showing the last one');
          return last;
        });
        this.set({ state: 'waiting' }, last.waiting);
        this.set({ state: 'active' }, last.active);
      },
    });
    this.#seconds = histogram(registry, {
      name: 'convene_conversion_duration_seconds',
      help: 'Deck conversion attempts on this process, by outcome (ok, failed: will be retried, gave_up: permanent or last attempt)',
      labelNames: ['outcome'] as const,
      buckets: WAIT_BUCKETS,
    });
    this.#failures = counter(registry, {
      name: 'convene_conversion_failures_total',
      help: 'Deck conversion attempts that failed on this process, by whether the job gave up (final=true) or will be retried',
      labelNames: ['final'] as const,
    });
    this.#failures.inc({ final: 'true' }, 0);
    this.#failures.inc({ final: 'false' }, 0);
  }

  /** `process`, timed and counted. */
  measured(process: JobProcessor, attempts: number): JobProcessor {
    return async (job, attempt, signal) => {
      const stop = this.#seconds.startTimer();
      try {
        await process(job, attempt, signal);
        stop({ outcome: 'ok' });
      } catch (error) {
        const final = error instanceof PermanentJobError || attempt >= attempts;
        stop({ outcome: final ? 'gave_up' : 'failed' });
        this.#failures.inc({ final: String(final) });
        throw error;
      }
    };
  }
}
