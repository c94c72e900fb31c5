import type { EventBus, MessageHandler, Unsubscribe } from './EventBus.ts';

export class MemoryEventBus implements EventBus {
  readonly kind = 'memory' as const;
  readonly #handlers = new Map<string, Set<MessageHandler>>();
  #closed = false;

  async publish(channel: string, message: unknown): Promise<void> {
    if (this.#closed) throw new Error('event bus is closed');
    const payload = JSON.stringify(message);
    const handlers = this.#handlers.get(channel);
    if (!handlers) return;
    for (const handler of [...handlers]) {
      setImmediate(() => handler(JSON.parse(payload), channel));
    }
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe> {
    let handlers = this.#handlers.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(channel, handlers);
    }
    // Wrap so that the same function may be subscribed twice and removed once.
    const entry: MessageHandler = (message, ch) => handler(message, ch);
    handlers.add(entry);
    return async () => {
      handlers.delete(entry);
      if (handlers.size === 0) this.#handlers.delete(channel);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#handlers.clear();
  }
}
