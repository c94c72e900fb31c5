import { Counter, type Registry } from 'prom-client';
import type { Logger } from './logger.ts';

export interface BackgroundLoopOptions {
  /** Names the loop in logs and in `convene_background_errors_total{loop}`. */
  name: string;
  intervalMs: number;
  /** The longest wait after consecutive failures (default 4 s, or the interval if longer): short, so that work resumes soon after Redis returns. */
  maxBackoffMs?: number;
  logger: Pick<Logger, 'warn' | 'info'>;
  /** Where the error counter lives; without it failures are only logged. */
  metrics?: Registry;
}

const counters = new WeakMap<Registry, Counter<'loop'>>();

function errorCounter(registry: Registry): Counter<'loop'> {
  let counter = counters.get(registry);
  if (!counter) {
    counter = new Counter({
      name: 'convene_background_errors_total',
      help: 'Failed runs of background loops (cleaner, node watcher, heartbeats, config centre...); each is retried with back-off',
      labelNames: ['loop'] as const,
      registers: [registry],
    });
    counters.set(registry, counter);
  }
  return counter;
}

/**
 * Periodic work that must outlive any failure of what it depends on (Redis, another node): a
 * failed run is caught, logged, counted and retried with exponential back-off, and the loop
 * goes back to its interval after the first success. Runs never overlap. Nothing thrown by
 * `work` can reach the process guard.
 */
export class BackgroundLoop {
  #timer?: NodeJS.Timeout;
  #running?: Promise<void>;
  #failures = 0;
  #stopped = true;
  /** When the current run of successes began; null while failing. */
  #healthySince: number | null = Number.NEGATIVE_INFINITY;

  private readonly options: BackgroundLoopOptions;
  private readonly work: () => Promise<void>;
  private readonly counter?: Counter<'loop'>;
  constructor(options: BackgroundLoopOptions, work: () => Promise<void>) {
    this.options = options;
    this.work = work;
    this.counter = options.metrics ? errorCounter(options.metrics) : undefined;
    // Present at zero from the start, so that an alert on its increase sees the first failure.
    this.counter?.inc({ loop: options.name }, 0);
  }

  /** Consecutive failed runs so far (0 once a run succeeds). */
  get failures(): number {
    return this.#failures;
  }

  /**
   * How long runs have succeeded without a break (0 during the first success after failures).
   * Work that judges others by their heartbeats in the store waits for this to exceed the
   * staleness limit after an outage, since nobody could heartbeat while the store was down.
   */
  get healthyForMs(): number {
    return this.#healthySince === null ? 0 : Date.now() - this.#healthySince;
  }

  /** Schedules the first run after one interval (or at once with `immediately`). */
  start(options: { immediately?: boolean } = {}): void {
    this.#stopped = false;
    this.#schedule(options.immediately ? 0 : this.options.intervalMs);
  }

  /**
   * Runs now (or joins the run in progress) and reschedules; never rejects. Used on events that
   * make waiting for the next tick pointless, such as Redis coming back.
   */
  runNow(): Promise<void> {
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #run(): Promise<void> {
    clearTimeout(this.#timer);
    const startedAt = Date.now();
    try {
      await this.work();
      this.#healthySince ??= startedAt;
      if (this.#failures > 0) this.options.logger.info({ loop: this.options.name, failures: this.#failures }, 'background work recovered');
      this.#failures = 0;
    } catch (error) {
      this.#failures++;
      this.#healthySince = null;
      this.counter?.inc({ loop: this.options.name });
      this.options.logger.warn({ err: error, loop: this.options.name, failures: this.#failures }, 'background work failed; retrying');
    }
    if (!this.#stopped) this.#schedule(this.#delay());
  }

  #delay(): number {
    const { intervalMs } = this.options;
    if (this.#failures === 0) return intervalMs;
    const max = Math.max(this.options.maxBackoffMs ?? 4000, intervalMs);
    const backoff = Math.min(max, intervalMs * 2 ** (this.#failures - 1));
    // Jitter so that a fleet coming back from an outage does not retry in lockstep.
    return Math.round(backoff * (0.8 + Math.random() * 0.4));
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // runNow never rejects: #run catches everything work() throws.
      this.runNow().catch(() => undefined);
    }, ms);
    this.#timer.unref();
  }
}
