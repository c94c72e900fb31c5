import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import type { EventBus } from './bus/EventBus.ts';
import { MemoryEventBus } from './bus/MemoryEventBus.ts';
import { RedisEventBus } from './bus/RedisEventBus.ts';
import { connectRedis, type RedisTarget } from './redis.ts';
import { MemoryStateStore } from './state/MemoryStateStore.ts';
import { RedisStateStore } from './state/RedisStateStore.ts';
import type { StateStore } from './state/StateStore.ts';

/** State and messaging for one process, chosen once at start-up from REDIS_URL or REDIS_SENTINELS. */
export interface Backends {
  store: StateStore;
  bus: EventBus;
  /**
   * Present in Redis mode. Adapters that need connections of their own (socket.io, BullMQ)
   * make them from `target` with common/redis.ts, so that they fail over like these.
   */
  redis?: { target: RedisTarget; prefix: string; client: Redis; subscriber: Redis };
  /**
   * Calls `listener` each time the store is reachable again after losing its connection, so
   * that work waiting for the next tick (heartbeats, the config centre, reconciliation) runs now.
   * Never called in the embedded mode.
   */
  onReconnect(listener: () => void): void;
  close(): Promise<void>;
}

export async function createBackends(config: Pick<Config, 'redis' | 'REDIS_PREFIX' | 'nodeId'>): Promise<Backends> {
  if (config.redis === undefined) {
    const store = new MemoryStateStore();
    const bus = new MemoryEventBus();
    return {
      store,
      bus,
      onReconnect: () => undefined,
      close: async () => {
        await bus.close();
        await store.close();
      },
    };
  }
  const client = await connectRedis(config.redis, { name: `convene-${config.nodeId}` });
  const subscriber = await connectRedis(config.redis, { name: `convene-${config.nodeId}-sub` });
  const store = new RedisStateStore(client, config.REDIS_PREFIX);
  const bus = new RedisEventBus(client, subscriber, config.REDIS_PREFIX);
  // Both connections were ready before this point, so every 'ready' from now on is a reconnect.
  const listeners = new Set<() => void>();
  client.on('ready', () => {
    for (const listener of listeners) listener();
  });
  return {
    store,
    bus,
    redis: { target: config.redis, prefix: config.REDIS_PREFIX, client, subscriber },
    onReconnect: (listener) => {
      listeners.add(listener);
    },
    close: async () => {
      await bus.close();
      await store.close();
      subscriber.disconnect();
      client.disconnect();
    },
  };
}

/**
 * Processes of one deployment must sign and verify with the same key. Without JWT_SECRET the
 * first process stores a random one and every later process adopts it.
 */
export async function resolveSharedSecret(store: StateStore, name: string, candidate: string): Promise<string> {
  const key = `secret:${name}`;
  await store.set(key, candidate, { onlyIfAbsent: true });
  return (await store.get(key)) ?? candidate;
}
