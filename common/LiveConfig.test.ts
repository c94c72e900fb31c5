import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createBackends } from './backends.ts';
import { loadConfig } from './config.ts';
import { LiveConfig } from './LiveConfig.ts';
import { TEST_REDIS_URL, testPrefix, waitFor } from './testing.ts';

describe.each([
  ['memory', undefined],
  ['redis', TEST_REDIS_URL],
])('LiveConfig (%s)', (_name, redisUrl) => {
  it('pushes a change to every process and to processes started later', async () => {
    const prefix = testPrefix('live');
    const env = { REDIS_URL: redisUrl, REDIS_PREFIX: prefix, NODE_ID: 'a' };
    const backendsA = await createBackends(loadConfig(env));
    // In the embedded mode there is one process: B shares A's backends.
    const backendsB = redisUrl ? await createBackends(loadConfig({ ...env, NODE_ID: 'b' })) : backendsA;
    const configA = loadConfig(env);
    const configB = loadConfig(env);
    const logger = pino({ level: 'silent' });
    const a = new LiveConfig(configA, backendsA.store, backendsA.bus, logger);
    const b = new LiveConfig(configB, backendsB.store, backendsB.bus, logger);
    await a.start();
    await b.start();
    expect(configB.CHAT_MAX_LENGTH).toBe(2000);
    expect(await a.change({ CHAT_MAX_LENGTH: 500, RECONNECT_GRACE_MS: 10_000 })).toEqual({ CHAT_MAX_LENGTH: 500, RECONNECT_GRACE_MS: 10_000 });
    await waitFor(() => configB.CHAT_MAX_LENGTH === 500 && configA.CHAT_MAX_LENGTH === 500, { what: 'the change everywhere' });
    expect(configB.RECONNECT_GRACE_MS).toBe(10_000);
    const late = loadConfig(env);
    const c = new LiveConfig(late, backendsB.store, backendsB.bus, logger);
    await c.start();
    expect(late.CHAT_MAX_LENGTH).toBe(500);
    await expect(a.change({ CHAT_MAX_LENGTH: -1 })).rejects.toThrow();
    await expect(a.change({ PORT: 1 })).rejects.toThrow();
    for (const live of [a, b, c]) await live.stop();
    if (redisUrl && backendsA.redis) {
      const keys = await backendsA.redis.client.keys(`${prefix}*`);
      if (keys.length) await backendsA.redis.client.del(...keys);
    }
    await backendsA.close();
    if (backendsB !== backendsA) await backendsB.close();
  });
});

describe('LiveConfig, a process that missed the push', () => {
  it('applies a change it never heard of: on reconnect at once, and by re-reading the version', async () => {
    const backends = await createBackends(loadConfig({}));
    const logger = pino({ level: 'silent' });
    // B's bus delivers nothing, as for a process cut off from Redis while the change went out.
    const deaf = { ...backends.bus, kind: 'memory' as const, subscribe: async () => async () => undefined, publish: backends.bus.publish.bind(backends.bus), close: async () => undefined };
    const configA = loadConfig({});
    const configB = loadConfig({});
    const a = new LiveConfig(configA, backends.store, backends.bus, logger);
    const b = new LiveConfig(configB, backends.store, deaf, logger, { resyncMs: 60_000 });
    await a.start();
    await b.start();
    await a.change({ CHAT_MAX_LENGTH: 321 });
    expect(configB.CHAT_MAX_LENGTH).toBe(2000);
    await b.resync();
    expect(configB.CHAT_MAX_LENGTH).toBe(321);
    const c = new LiveConfig(loadConfig({}), backends.store, deaf, logger, { resyncMs: 50 });
    const configC = (c as unknown as { config: ReturnType<typeof loadConfig> }).config;
    await c.start();
    await a.change({ CHAT_MAX_LENGTH: 654 });
    await waitFor(() => configC.CHAT_MAX_LENGTH === 654, { what: 'the periodic re-read' });
    for (const live of [a, b, c]) await live.stop();
    await backends.close();
  });
});
