import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateRedis } from '../test/support/redisServer.ts';
import { type Backends, createBackends } from './backends.ts';
import { AppError } from './errors.ts';
import { testPrefix, waitFor } from './testing.ts';

/** The Redis backends through an outage of their own private redis-server. */
describe('Redis backends during an outage', () => {
  let redis: PrivateRedis;
  let backends: Backends;

  beforeAll(async () => {
    redis = await PrivateRedis.create();
    await redis.start();
    backends = await createBackends({ redis: { kind: 'url', url: redis.url }, REDIS_PREFIX: testPrefix('outage'), nodeId: 'outage-test' });
  }, 20_000);

  afterAll(async () => {
    try {
      await backends?.close();
    } finally {
      await redis?.remove();
    }
  });

  it('answers store_unavailable within 2 s while Redis is down, and works again once it is back', async () => {
    await backends.store.set('k', 'v');
    await redis.stop();
    for (const op of [() => backends.store.get('k'), () => backends.store.set('k', 'w'), () => backends.bus.publish('c', {}), () => backends.store.ping()]) {
      const started = Date.now();
      const error = await op().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('store_unavailable');
      expect(Date.now() - started).toBeLessThan(2000);
    }
    await redis.start();
    await waitFor(() => backends.store.set('k', 'back').catch(() => false), { timeoutMs: 5000, what: 'the store back' });
    expect(await backends.store.get('k')).toBe('back');
  }, 20_000);

  it('subscribes for real after a subscribe that failed during the outage', async () => {
    await redis.stop();
    const received: unknown[] = [];
    const failed = await backends.bus.subscribe('events', (m) => received.push(m)).then(
      () => null,
      (e: unknown) => e,
    );
    expect((failed as AppError).code).toBe('store_unavailable');
    await redis.start();
    await waitFor(() => backends.store.ping().then(() => true, () => false), { timeoutMs: 5000, what: 'the store back' });
    await backends.bus.subscribe('events', (m) => received.push(m));
    await backends.bus.publish('events', { n: 1 });
    await waitFor(() => received.length === 1, { what: 'the message' });
  }, 20_000);

  it('keeps subscriptions across a restart of Redis', async () => {
    const received: unknown[] = [];
    await backends.bus.subscribe('kept', (m) => received.push(m));
    await redis.stop();
    await redis.start();
    await waitFor(
      async () => {
        await backends.bus.publish('kept', { n: received.length }).catch(() => undefined);
        return received.length > 0;
      },
      { timeoutMs: 5000, intervalMs: 200, what: 'a message on the re-made subscription' },
    );
  }, 20_000);
});
