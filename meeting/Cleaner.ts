import type { Logger } from '../common/logger.ts';
import type { StateStore } from '../common/state/StateStore.ts';
import { tryLock } from '../common/state/lock.ts';
import type { MeetingLifecycle } from './MeetingLifecycle.ts';
import type { SeatService } from './SeatService.ts';
import { detach } from '../common/detach.ts';

/**
 * Makes state end: releases seats whose grace period ran out, and ends meetings nobody has
 * been in for `MEETING_IDLE_END_MS` (checked every `idleCheckMs`, which walks every live
 * meeting). Any number of meeting nodes may run it; a lease makes one of them do each sweep.
 */
export class Cleaner {
  #timer?: NodeJS.Timeout;
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
  ) {
    this.store = store;
    this.seats = seats;
    this.lifecycle = lifecycle;
    this.intervalMs = options.intervalMs;
    this.idleCheckMs = options.idleCheckMs;
    this.logger = logger;
  }

  start(): void {
    this.#timer = setInterval(() => detach(this.logger, 'cleaner sweep', this.sweep()), this.intervalMs);
    this.#timer.unref();
  }

  async sweep(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const lock = await tryLock(this.store, 'cleaner', Math.max(this.intervalMs * 5, 5000));
    try {
      if (!lock) return;
      const released = await this.seats.releaseExpired();
      if (released > 0) this.logger.info({ released }, 'released seats after their grace period');
      if (Date.now() >= this.#nextIdleCheck) {
        this.#nextIdleCheck = Date.now() + this.idleCheckMs;
        const ended = await this.lifecycle.endIdle();
        if (ended > 0) this.logger.info({ ended }, 'ended idle meetings');
      }
    } catch (error) {
      this.logger.error({ err: error }, 'cleaner sweep failed');
    } finally {
      await lock?.release();
      this.#running = false;
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}
