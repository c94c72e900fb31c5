import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../redis.ts';
import { TEST_REDIS_URL, testPrefix } from '../testing.ts';
import { AppError } from '../errors.ts';
import { tryLock, withLock } from './lock.ts';
import { MemoryStateStore } from './MemoryStateStore.ts';
import { RedisStateStore } from './RedisStateStore.ts';
import { type StateStore, WrongTypeError } from './StateStore.ts';
import type { Redis } from 'ioredis';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The same suite runs against each backend: the embedded mode may not behave differently.
const backends: Array<[string, () => Promise<{ store: StateStore; done: () => Promise<void> }>]> = [
  ['memory', async () => {
    const store = new MemoryStateStore();
    return { store, done: () => store.close() };
  }],
  ['redis', async () => {
    const redis: Redis = await connectRedis({ kind: 'url', url: TEST_REDIS_URL });
    const prefix = testPrefix('state');
    const store = new RedisStateStore(redis, prefix);
    return {
      store,
      done: async () => {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      },
    };
  }],
];

describe.each(backends)('StateStore contract: %s', (_name, make) => {
  let store: StateStore;
  let done: () => Promise<void>;
  beforeAll(async () => {
    ({ store, done } = await make());
  });
  afterAll(async () => done());

  it('gets, sets and deletes strings', async () => {
    expect(await store.get('a')).toBeNull();
    expect(await store.set('a', '1')).toBe(true);
    expect(await store.get('a')).toBe('1');
    expect(await store.del('a')).toBe(true);
    expect(await store.del('a')).toBe(false);
    expect(await store.get('a')).toBeNull();
  });

  it('sets only if absent', async () => {
    expect(await store.set('nx', 'first', { onlyIfAbsent: true })).toBe(true);
    expect(await store.set('nx', 'second', { onlyIfAbsent: true })).toBe(false);
    expect(await store.get('nx')).toBe('first');
  });

  it('expires keys of every type', async () => {
    await store.set('ttl:s', 'x', { ttlMs: 80 });
    await store.hashSet('ttl:h', 'f', 'v');
    await store.setAdd('ttl:set', 'm');
    expect(await store.expire('ttl:h', 80)).toBe(true);
    expect(await store.expire('ttl:set', 80)).toBe(true);
    expect(await store.expire('ttl:none', 80)).toBe(false);
    const remaining = await store.ttl('ttl:s');
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(80);
    expect(await store.ttl('ttl:absent')).toBe(-2);
    await store.set('ttl:forever', 'x');
    expect(await store.ttl('ttl:forever')).toBe(-1);
    await sleep(150);
    expect(await store.get('ttl:s')).toBeNull();
    expect(await store.hashGetAll('ttl:h')).toEqual({});
    expect(await store.setMembers('ttl:set')).toEqual([]);
  });

  it('compares and sets atomically', async () => {
    expect(await store.compareAndSet('cas', null, 'v1')).toBe(true);
    expect(await store.compareAndSet('cas', null, 'v2')).toBe(false);
    expect(await store.compareAndSet('cas', 'wrong', 'v2')).toBe(false);
    expect(await store.compareAndSet('cas', 'v1', 'v2', { ttlMs: 10_000 })).toBe(true);
    expect(await store.get('cas')).toBe('v2');
    expect(await store.ttl('cas')).toBeGreaterThan(0);
    expect(await store.compareAndSet('cas', 'v2', null)).toBe(true);
    expect(await store.get('cas')).toBeNull();
  });

  it('lets exactly one of many concurrent writers win a compare-and-set', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.compareAndSet('race', null, `w${i}`)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('increments counters', async () => {
    expect(await store.incr('counter')).toBe(1);
    expect(await store.incr('counter')).toBe(2);
  });

  it('keeps hashes', async () => {
    await store.hashSet('h', 'a', '1');
    await store.hashSet('h', 'b', '2');
    expect(await store.hashGet('h', 'a')).toBe('1');
    expect(await store.hashGet('h', 'zz')).toBeNull();
    expect(await store.hashGetAll('h')).toEqual({ a: '1', b: '2' });
    expect(await store.hashDel('h', 'a')).toBe(true);
    expect(await store.hashDel('h', 'a')).toBe(false);
    expect(await store.hashGetAll('h')).toEqual({ b: '2' });
    expect(await store.hashGetAll('h:none')).toEqual({});
    expect(await store.hashLength('h')).toBe(1);
    expect(await store.hashLength('h:none')).toBe(0);
  });

  it('keeps sets', async () => {
    expect(await store.setAdd('s', 'x')).toBe(true);
    expect(await store.setAdd('s', 'x')).toBe(false);
    await store.setAdd('s', 'y');
    expect((await store.setMembers('s')).sort()).toEqual(['x', 'y']);
    expect(await store.setRemove('s', 'x')).toBe(true);
    expect(await store.setRemove('s', 'x')).toBe(false);
    expect(await store.setMembers('s')).toEqual(['y']);
  });

  it('keeps capped lists', async () => {
    expect(await store.listRange('l', 0, -1)).toEqual([]);
    for (const v of ['a', 'b', 'c', 'd']) await store.listPush('l', v, { maxLength: 3 });
    expect(await store.listRange('l', 0, -1)).toEqual(['b', 'c', 'd']);
    expect(await store.listRange('l', -2, -1)).toEqual(['c', 'd']);
    expect(await store.listRange('l', 1, 1)).toEqual(['c']);
    await store.listPush('l2', 'x');
    expect(await store.listRange('l2', 0, 10)).toEqual(['x']);
  });

  it('refuses to treat a hash as a string', async () => {
    await store.hashSet('typed', 'f', 'v');
    await expect(store.get('typed')).rejects.toBeInstanceOf(WrongTypeError);
    await expect(store.setAdd('typed', 'm')).rejects.toBeInstanceOf(WrongTypeError);
    await expect(store.listPush('typed', 'm', { maxLength: 2 })).rejects.toBeInstanceOf(WrongTypeError);
  });

  it('gives a lock to one holder and releases it only for its owner', async () => {
    const first = await tryLock(store, 'room-1', 5000);
    expect(first).not.toBeNull();
    expect(await tryLock(store, 'room-1', 5000)).toBeNull();
    // A stale holder whose lease expired must not free the new holder's lock.
    const stale = await tryLock(store, 'room-2', 50);
    await sleep(100);
    const fresh = await tryLock(store, 'room-2', 5000);
    expect(fresh).not.toBeNull();
    expect(await stale?.release()).toBe(false);
    expect(await tryLock(store, 'room-2', 5000)).toBeNull();
    expect(await first?.release()).toBe(true);
    expect(await tryLock(store, 'room-1', 5000)).not.toBeNull();
  });

  it('serialises critical sections with withLock', async () => {
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        withLock(store, 'serial', async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await sleep(5);
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(1);
  });

  it('answers a lock it cannot take in time with a typed 503 busy, not a plain error', async () => {
    const held = await tryLock(store, 'contended', 5000);
    const error = await withLock(store, 'contended', async () => 'ran', { waitMs: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'busy', status: 503 });
    await held?.release();
    expect(await withLock(store, 'contended', async () => 'ran', { waitMs: 50 })).toBe('ran');
  });
});
