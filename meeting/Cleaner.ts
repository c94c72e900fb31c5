import type { Registry } from 'prom-client';
import { LeasedSweeper, type SweepOutcome } from '../common/LeasedSweeper.ts';
import type { Logger } from '../common/logger.ts';
import type { StateStore } from '../common/state/StateStore.ts';
import type { MeetingLifecycle } from './MeetingLifecycle.ts';
import type { SeatService } from './SeatService.ts';

/**
 * Makes state end: releases seats whose grace period ran out, and ends meetings nobody has
 * been in for `MEETING_IDLE_END_MS` (checked every `idleCheckMs`, which walks every live
 * meeting). Any number of meeting nodes may run it; the LeasedSweeper makes one of them do each
 * sweep, and retries a failed one (the store is down) with back-off.
 */
export class Cleaner {
  readonly #sweeper: LeasedSweeper;
  #nextIdleCheck = 0;

  private readonly seats: SeatService;
  private readonly lifecycle: MeetingLifecycle;
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
    this.seats = seats;
    this.lifecycle = lifecycle;
    this.idleCheckMs = options.idleCheckMs;
    this.logger = logger;
    this.#sweeper = new LeasedSweeper({ name: 'cleaner', intervalMs: options.intervalMs, store, logger, metrics }, () => this.#pass());
  }

  start(): void {
    this.#sweeper.start();
  }

  /** One sweep under the lease; rejects when the store fails (the loop counts that and backs off). */
  sweep(): Promise<SweepOutcome> {
    return this.#sweeper.sweep();
  }

  async #pass(): Promise<void> {
    const released = await this.seats.releaseExpired();
    if (released > 0) this.logger.info({ released }, 'released seats after their grace period');
    if (Date.now() >= this.#nextIdleCheck) {
      this.#nextIdleCheck = Date.now() + this.idleCheckMs;
      const ended = await this.lifecycle.endIdle();
      if (ended > 0) this.logger.info({ ended }, 'ended idle meetings');
    }
  }

  stop(): void {
    this.#sweeper.stop();
  }
}
