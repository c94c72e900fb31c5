import type { RoomProducer } from './roomTypes.ts';
import type { RouterSlot } from './RouterSlot.ts';

/**
 * Producers made consumable on the other routers of a room (one per worker) by `pipeToRouter`,
 * each pair once: concurrent consumers of one producer on one router share the pipe.
 */
export class CrossWorkerPipes {
  readonly #piped = new Map<string, Promise<void>>();

  async ensureIn(entry: RoomProducer, slot: RouterSlot): Promise<void> {
    if (entry.slot === slot) return;
    const key = `${entry.producer.id}@${slot.router.id}`;
    let pending = this.#piped.get(key);
    if (!pending) {
      pending = entry.slot.router
        .pipeToRouter({ producerId: entry.producer.id, router: slot.router })
        .then(({ pipeProducer }) => {
          pipeProducer?.observer.once('close', () => this.#piped.delete(key));
        })
        .catch((error: unknown) => {
          this.#piped.delete(key);
          throw error;
        });
      this.#piped.set(key, pending);
    }
    await pending;
  }
}
