import type { Redis } from 'ioredis';
import type { EventBus, MessageHandler, Unsubscribe } from './EventBus.ts';

/**
 * Redis pub/sub. A subscribed connection can do nothing else, so publishing and subscribing
 * use two connections.
 */
export class RedisEventBus implements EventBus {
  readonly kind = 'redis' as const;
  readonly #handlers = new Map<string, Set<MessageHandler>>();

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
    await this.publisher.publish(this.prefix + channel, JSON.stringify(message));
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe> {
    const full = this.prefix + channel;
    let handlers = this.#handlers.get(full);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(full, handlers);
      await this.subscriber.subscribe(full);
    }
    const entry: MessageHandler = (message, ch) => handler(message, ch);
    handlers.add(entry);
    return async () => {
      handlers.delete(entry);
      if (handlers.size === 0 && this.#handlers.get(full) === handlers) {
        this.#handlers.delete(full);
        await this.subscriber.unsubscribe(full);
      }
    };
  }

  async close(): Promise<void> {
    this.#handlers.clear();
  }
}
