import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createBackends } from './backends.ts';
import { instrumentBackends } from './instrumentBackends.ts';
import { counter, gauge } from './metrics.ts';
import { TEST_REDIS_URL, testPrefix } from './testing.ts';

describe('process metrics', () => {
  it('makes a metric once per registry, whichever role asks first', () => {
    const registry = new Registry();
    const a = counter(registry, { name: 'convene_test_total', help: 'test' });
    const b = counter(registry, { name: 'convene_test_total', help: 'test' });
    expect(b).toBe(a);
    expect(() => gauge(new Registry(), { name: 'convene_test_total', help: 'another registry' })).not.toThrow();
  });

  it.each([
    ['memory', undefined],
    ['redis', TEST_REDIS_URL],
  ])('times store and bus calls and counts those that fail, keeping the %s store working', async (_name, url) => {
    const registry = new Registry();
    const prefix = testPrefix('instrumented');
    const backends = instrumentBackends(await createBackends({ redis: url ? { kind: 'url', url } : undefined, REDIS_PREFIX: prefix, nodeId: 'n' }), registry);
    await backends.store.set('k', 'v');
    expect(await backends.store.get('k')).toBe('v');
    await backends.store.hashSet('h', 'f', '1');
    // A hash read as a string fails in every store: one error, counted under its command.
    await expect(backends.store.get('h')).rejects.toThrow();
    await backends.bus.publish('c', { hello: 1 });
    const text = await registry.metrics();
    expect(text).toMatch(/convene_backend_command_duration_seconds_count\{backend="store",command="set"\} 1/);
    expect(text).toMatch(/convene_backend_command_duration_seconds_count\{backend="store",command="get"\} 2/);
    expect(text).toMatch(/convene_backend_errors_total\{backend="store",command="get"\} 1/);
    expect(text).toMatch(/convene_backend_command_duration_seconds_count\{backend="bus",command="publish"\} 1/);
    expect(text).toMatch(/convene_backend_up\{backend="store"\} 1/);
    expect(backends.store.kind).toBe(url ? 'redis' : 'memory');
    await backends.store.del('k');
    await backends.store.del('h');
    // Unwrapped methods still reach the implementation, private fields and all.
    await backends.bus.close();
    await backends.store.close();
    backends.redis?.subscriber.disconnect();
    backends.redis?.client.disconnect();
  });
});
