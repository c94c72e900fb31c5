import type { Redis } from 'ioredis';
import { toStoreError } from '../state/storeErrors.ts';
import type { EventBus, MessageHandler, Unsubscribe } from './EventBus.ts';

/**
 * Redis pub/sub. A subscribed connection can do nothing else, so publishing and subscribing
 * use two connections.
 */
export class RedisEventBus implements EventBus {
  readonly kind = 'redis' as const;
  readonly #handlers = new Map<string, Set<MessageHandler>>();
  readonly #pending = new Map<string, Promise<void>>();

  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly prefix: string;
  constructor(
    publisher: Redis,
    subscriber: Redis,
    prefix: string,
  ) {
    this.publisher = publisher;
    this.subscriber = subscriber;
    this.prefix = prefix;
    subscriber.on('message', (channel: string, payload: string) => {
      const handlers = this.#handlers.get(channel);
      if (!handlers) return;
      let message: unknown;
      try {
        message = JSON.parse(payload);
      } catch {
        return; // not one of ours
      }
      const name = channel.slice(this.prefix.length);
      for (const handler of [...handlers]) handler(message, name);
    });
  }

  async publish(channel: string, message: unknown): Promise<void> {
    try {
      await this.publisher.publish(this.prefix + channel, JSON.stringify(message));
    } catch (error) {
      throw toStoreError(error);
    }
  }

  /**
   * A channel is recorded only once Redis confirmed the SUBSCRIBE: a failed attempt (Redis
   * down) leaves nothing behind, so the next subscribe tries again instead of trusting a
   * subscription that never existed. Concurrent first subscribers share one SUBSCRIBE.
   */
  async subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe> {
    const full = this.prefix + channel;
    let handlers = this.#handlers.get(full);
    while (!handlers) {
      const pending = this.#pending.get(full);
      if (pending !== undefined) {
        await pending.catch(() => undefined);
      } else {
        const subscribing = this.subscriber.subscribe(full).then(() => {
          this.#handlers.set(full, new Set());
        });
        this.#pending.set(full, subscribing);
        try {
          await subscribing;
        } catch (error) {
          throw toStoreError(error);
        } finally {
          this.#pending.delete(full);
        }
      }
      handlers = this.#handlers.get(full);
    }
    const set = handlers;
    const entry: MessageHandler = (message, ch) => handler(message, ch);
    set.add(entry);
    return async () => {
      set.delete(entry);
      if (set.size === 0 && this.#handlers.get(full) === set) {
        this.#handlers.delete(full);
        // If Redis is down the channel may stay subscribed; its messages then find no handlers.
        await this.subscriber.unsubscribe(full).catch(() => undefined);
      }
    };
  }

  async close(): Promise<void> {
    this.#handlers.clear();
  }
}
