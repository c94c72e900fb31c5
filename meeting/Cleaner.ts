import type { Registry } from 'prom-client';
import { BackgroundLoop } from '../common/BackgroundLoop.ts';
import type { Logger } from '../common/logger.ts';
import type { StateStore } from '../common/state/StateStore.ts';
import { tryLock } from '../common/state/lock.ts';
import type { MeetingLifecycle } from './MeetingLifecycle.ts';
import type { SeatService } from './SeatService.ts';

/**
 * Makes state end: releases seats whose grace period ran out, and ends meetings nobody has
 * been in for `MEETING_IDLE_END_MS` (checked every `idleCheckMs`, which walks every live
 * meeting). Any number of meeting nodes may run it; a lease makes one of them do each sweep.
 * A failed sweep (the store is down) is retried by the loop with back-off.
 */
export class Cleaner {
  readonly #loop: BackgroundLoop;
  #running = false;
  #nextIdleCheck = 0;

  private readonly store: StateStore;
  private readonly seats: SeatService;
  private readonly lifecycle: MeetingLifecycle;
  private readonly intervalMs: number;
  private readonly idleCheckMs: number;
  private readonly logger: Logger;
  constructor(
    store: StateStore,
    seats: SeatService,
    lifecycle: MeetingLifecycle,
    options: { intervalMs: number; idleCheckMs: number },
    logger: Logger,
    metrics?: Registry,
  ) {
    this.store = store;
    this.seats = seats;
    this.lifecycle = lifecycle;
    this.intervalMs = options.intervalMs;
    this.idleCheckMs = options.idleCheckMs;
    this.logger = logger;
    this.#loop = new BackgroundLoop({ name: 'cleaner', intervalMs: options.intervalMs, logger, metrics }, () => this.sweep());
  }

  start(): void {
    this.#loop.start();
  }

  /** One sweep; rejects when the store fails, so that the loop counts it and backs off. */
  async sweep(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      const lock = await tryLock(this.store, 'cleaner', Math.max(this.intervalMs * 5, 5000));
      if (!lock) return;
      try {
        const released = await this.seats.releaseExpired();
        if (released > 0) this.logger.info({ released }, 'released seats after their grace period');
        if (Date.now() >= this.#nextIdleCheck) {
          this.#nextIdleCheck = Date.now() + this.idleCheckMs;
          const ended = await this.lifecycle.endIdle();
          if (ended > 0) this.logger.info({ ended }, 'ended idle meetings');
        }
      } finally {
        // A lease we cannot release expires on its own.
        await lock.release().catch(() => undefined);
      }
    } finally {
      this.#running = false;
    }
  }

  stop(): void {
    this.#loop.stop();
  }
}
