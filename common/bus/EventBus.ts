/**
 * Fire-and-forget messages between processes. Messages are JSON: both backends serialise, so a
 * handler never shares an object with the publisher and the modes cannot drift apart.
 * Delivery is at most once and asynchronous, as with Redis pub/sub.
 */
export interface EventBus {
  readonly kind: 'memory' | 'redis';
  publish(channel: string, message: unknown): Promise<void>;
  /** Resolves once the subscription is active; the returned function ends it. */
  subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe>;
  close(): Promise<void>;
}

export type MessageHandler = (message: unknown, channel: string) => void;
export type Unsubscribe = () => Promise<void>;
