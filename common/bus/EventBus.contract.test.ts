import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { connectRedis } from '../redis.ts';
import { TEST_REDIS_URL, testPrefix, waitFor } from '../testing.ts';
import type { EventBus } from './EventBus.ts';
import { MemoryEventBus } from './MemoryEventBus.ts';
import { RedisEventBus } from './RedisEventBus.ts';

const backends: Array<[string, () => Promise<{ a: EventBus; b: EventBus; done: () => Promise<void> }>]> = [
  ['memory', async () => {
    // One in-memory bus is the whole "cluster" in the embedded mode.
    const bus = new MemoryEventBus();
    return { a: bus, b: bus, done: () => bus.close() };
  }],
  ['redis', async () => {
    const prefix = testPrefix('bus');
    const conns: Redis[] = await Promise.all([1, 2, 3, 4].map(() => connectRedis({ kind: 'url', url: TEST_REDIS_URL })));
    const [p1, s1, p2, s2] = conns as [Redis, Redis, Redis, Redis];
    // Two buses on separate connections stand for two processes.
    const a = new RedisEventBus(p1, s1, prefix);
    const b = new RedisEventBus(p2, s2, prefix);
    return {
      a,
      b,
      done: async () => {
        await a.close();
        await b.close();
        for (const c of conns) c.disconnect();
      },
    };
  }],
];

describe.each(backends)('EventBus contract: %s', (_name, make) => {
  let a: EventBus;
  let b: EventBus;
  let done: () => Promise<void>;
  beforeAll(async () => {
    ({ a, b, done } = await make());
  });
  afterAll(async () => done());

  it('delivers a published message to every subscriber of the channel', async () => {
    const gotA: unknown[] = [];
    const gotB: unknown[] = [];
    const offA = await a.subscribe('room:1', (m) => gotA.push(m));
    const offB = await b.subscribe('room:1', (m) => gotB.push(m));
    await a.publish('room:1', { type: 'hello', n: 1 });
    await waitFor(() => gotA.length === 1 && gotB.length === 1, { what: 'delivery' });
    expect(gotA[0]).toEqual({ type: 'hello', n: 1 });
    expect(gotB[0]).toEqual({ type: 'hello', n: 1 });
    await offA();
    await offB();
  });

  it('does not deliver other channels', async () => {
    const got: unknown[] = [];
    const off = await b.subscribe('room:2', (m) => got.push(m));
    await a.publish('room:3', 'other');
    await a.publish('room:2', 'mine');
    // One publisher's messages arrive in order, so once 'mine' is here 'other' would have been.
    await waitFor(() => got.length === 1);
    expect(got).toEqual(['mine']);
    await off();
  });

  it('stops delivering after unsubscribe', async () => {
    const got: unknown[] = [];
    const off = await b.subscribe('room:4', (m) => got.push(m));
    const markers: unknown[] = [];
    const offMarker = await b.subscribe('room:4-marker', (m) => markers.push(m));
    await off();
    await a.publish('room:4', 'late');
    // Published after 'late' by the same publisher: once it is here, 'late' would have been.
    await a.publish('room:4-marker', 'after');
    await waitFor(() => markers.length === 1, { what: 'the marker' });
    expect(got).toEqual([]);
    await offMarker();
  });

  it('hands each subscriber its own copy', async () => {
    const message = { list: [1] };
    let received: { list: number[] } | undefined;
    const off = await b.subscribe('room:5', (m) => {
      received = m as { list: number[] };
    });
    await a.publish('room:5', message);
    await waitFor(() => received);
    message.list.push(2);
    expect(received?.list).toEqual([1]);
    await off();
  });

  it('keeps order from one publisher', async () => {
    const got: number[] = [];
    const off = await b.subscribe('room:6', (m) => got.push(m as number));
    for (let i = 0; i < 50; i++) await a.publish('room:6', i);
    await waitFor(() => got.length === 50);
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await off();
  });
});
