import type { Registry } from 'prom-client';
import { BackgroundLoop } from './BackgroundLoop.ts';
import type { Logger } from './logger.ts';
import type { StateStore } from './state/StateStore.ts';
import { tryLock } from './state/lock.ts';

export interface LeasedSweeperOptions {
  /** Names the loop in logs and metrics, and the lease (`lock:<name>`) that nodes share. */
  name: string;
  intervalMs: number;
  /**
   * How long a lease lasts if its holder dies mid-pass (default five intervals, at least 5 s).
   * Longer than any pass, or a second node could start while the first is still at it.
   */
  leaseMs?: number;
  store: StateStore;
  logger: Pick<Logger, 'warn' | 'info'>;
  metrics?: Registry;
}

/** What one call of `sweep` did: ran the pass, or found another node holding the lease. */
export type SweepOutcome = 'swept' | 'leased-elsewhere';

/**
 * Periodic work that any number of nodes run but only one at a time does: each pass takes a
 * lease in the store first and skips when another node holds it. Built on BackgroundLoop, so a
 * failed pass or an unreachable store is logged, counted in `convene_background_errors_total`
 * and retried with back-off; the lease is released whatever the pass did (one that cannot be
 * released, the store being down, expires on its own).
 */
export class LeasedSweeper {
  readonly #loop: BackgroundLoop;
  #inProgress?: Promise<SweepOutcome>;

  private readonly options: LeasedSweeperOptions;
  private readonly pass: () => Promise<void>;
  constructor(options: LeasedSweeperOptions, pass: () => Promise<void>) {
    this.options = options;
    this.pass = pass;
    this.#loop = new BackgroundLoop(
      { name: options.name, intervalMs: options.intervalMs, logger: options.logger, metrics: options.metrics },
      async () => {
        await this.sweep();
      },
    );
  }

  start(options: { immediately?: boolean } = {}): void {
    this.#loop.start(options);
  }

  stop(): void {
    this.#loop.stop();
  }

  /** A pass now, as the loop runs it: never rejects, a failure is logged and counted. */
  runNow(): Promise<void> {
    return this.#loop.runNow();
  }

  /**
   * A pass now under the lease, joining one in progress on this node. Rejects when the pass or
   * the store fails, for callers (and tests) that want the error; the loop counts it.
   */
  sweep(): Promise<SweepOutcome> {
    this.#inProgress ??= this.#leasedPass().finally(() => {
      this.#inProgress = undefined;
    });
    return this.#inProgress;
  }

  /** Consecutive failed passes of the loop (0 once one succeeds). */
  get failures(): number {
    return this.#loop.failures;
  }

  /** See BackgroundLoop.healthyForMs: passes that judge heartbeats wait for it after an outage. */
  get healthyForMs(): number {
    return this.#loop.healthyForMs;
  }

  async #leasedPass(): Promise<SweepOutcome> {
    const leaseMs = this.options.leaseMs ?? Math.max(5000, this.options.intervalMs * 5);
    const lease = await tryLock(this.options.store, this.options.name, leaseMs);
    if (!lease) return 'leased-elsewhere';
    try {
      await this.pass();
      return 'swept';
    } finally {
      await lease.release().catch(() => false);
    }
  }
}
