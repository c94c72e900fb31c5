import { describe, expect, it } from 'vitest';
import { connectRedis, createRedis, describeRedisTarget, RedisUnavailableError, type RedisTarget } from './redis.ts';

const sentinel: RedisTarget = { kind: 'sentinel', sentinels: [{ host: '127.0.0.1', port: 1 }], name: 'main', password: 'p', sentinelPassword: 's' };

describe('Redis connection factory', () => {
  it('builds a Sentinel client that asks the Sentinels for the primary and follows failovers', () => {
    const redis = createRedis(sentinel, { lazyConnect: true });
    expect(redis.options).toMatchObject({ sentinels: [{ host: '127.0.0.1', port: 1 }], name: 'main', role: 'master', password: 'p', sentinelPassword: 's', failoverDetector: false });
    redis.disconnect();
  });

  it('builds a plain client from a URL', () => {
    const redis = createRedis({ kind: 'url', url: 'redis://:pw@127.0.0.1:6390/2' }, { lazyConnect: true });
    expect(redis.options).toMatchObject({ host: '127.0.0.1', port: 6390, password: 'pw', db: 2 });
    expect(redis.options.sentinels).toBeFalsy();
    redis.disconnect();
  });

  it('reconnects on READONLY, the answer of a demoted primary', () => {
    const redis = createRedis(sentinel, { lazyConnect: true });
    expect(redis.options.reconnectOnError?.(new Error("READONLY You can't write against a read only replica."))).toBe(2);
    expect(redis.options.reconnectOnError?.(new Error('WRONGTYPE'))).toBe(false);
    redis.disconnect();
  });

  it('names the variable and hides passwords when Redis cannot be reached', async () => {
    expect(describeRedisTarget({ kind: 'url', url: 'redis://:pw@h:1' })).toBe('redis://***@h:1 (REDIS_URL)');
    expect(describeRedisTarget(sentinel)).toBe('primary "main" of Sentinels 127.0.0.1:1 (REDIS_SENTINELS)');
    const error = await connectRedis(sentinel, { timeoutMs: 500 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect((error as Error).message).toContain('REDIS_SENTINELS');
  });

});
