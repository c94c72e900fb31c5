import type { Logger } from '../common/logger.ts';
import type { StateStore } from '../common/state/StateStore.ts';
import { tryLock } from '../common/state/lock.ts';
import type { SeatService } from './SeatService.ts';
import { detach } from '../common/detach.ts';

/**
 * Removes zombies: seats whose grace period ran out. Any number of meeting nodes may run it;
 * a lease makes one of them do each sweep.
 */
export class Cleaner {
  #timer?: NodeJS.Timeout;
  #running = false;

  private readonly store: StateStore;
  private readonly seats: SeatService;
  private readonly intervalMs: number;
  private readonly logger: Logger;
  constructor(
    store: StateStore,
    seats: SeatService,
    intervalMs: number,
    logger: Logger,
  ) {
    this.store = store;
    this.seats = seats;
    this.intervalMs = intervalMs;
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
