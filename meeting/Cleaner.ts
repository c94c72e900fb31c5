import type { Logger } from '../common/logger.js';
import type { StateStore } from '../common/state/StateStore.js';
import { tryLock } from '../common/state/lock.js';
import type { SeatService } from './SeatService.js';

/**
 * Removes zombies: seats whose grace period ran out. Any number of meeting nodes may run it;
 * a lease makes one of them do each sweep.
 */
export class Cleaner {
  #timer?: NodeJS.Timeout;
  #running = false;

  constructor(
    private readonly store: StateStore,
    private readonly seats: SeatService,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.#timer = setInterval(() => void this.sweep(), this.intervalMs);
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
