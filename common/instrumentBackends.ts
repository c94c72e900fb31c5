import type { Registry } from 'prom-client';
import type { Backends } from './backends.ts';
import { COMMAND_BUCKETS, counter, gauge, histogram } from './metrics.ts';

type Kind = 'store' | 'bus';

/**
 * Times every call on the store and the bus and counts the ones that fail, whatever tier makes
 * them: a wrapper, so that neither the Redis nor the memory implementation knows about metrics.
 * Returns the same backends with the wrapped store and bus.
 */
export function instrumentBackends(backends: Backends, registry: Registry): Backends {
  const seconds = histogram(registry, {
    name: 'convene_backend_command_duration_seconds',
    help: 'Time of store and bus calls (Redis commands, or memory in the embedded mode), by backend and command',
    labelNames: ['backend', 'command'] as const,
    buckets: COMMAND_BUCKETS,
  });
  const errors = counter(registry, {
    name: 'convene_backend_errors_total',
    help: 'Store and bus calls that failed (Redis unreachable, timed out, refused), by backend and command; connection errors count as command "connection"',
    labelNames: ['backend', 'command'] as const,
  });
  gauge(registry, {
    name: 'convene_backend_up',
    help: 'Whether the connection to the store (backend="store") and the bus subscriber (backend="bus") is ready: 1 or 0; always 1 in the embedded mode',
    labelNames: ['backend'] as const,
    collect() {
      const redis = backends.redis;
      this.set({ backend: 'store' }, redis === undefined || redis.client.status === 'ready' ? 1 : 0);
      this.set({ backend: 'bus' }, redis === undefined || redis.subscriber.status === 'ready' ? 1 : 0);
    },
  });
  // Seed the series so that a process without a failure yet still shows them at zero.
  for (const backend of ['store', 'bus'] as const) errors.inc({ backend, command: 'connection' }, 0);
  backends.redis?.client.on('error', () => errors.inc({ backend: 'store', command: 'connection' }));
  backends.redis?.subscriber.on('error', () => errors.inc({ backend: 'bus', command: 'connection' }));

  const wrap = <T extends object>(target: T, backend: Kind): T =>
    new Proxy(target, {
      get(object, property) {
        // Read and called on the real object: the implementations keep private fields.
        const value = Reflect.get(object, property);
        if (typeof value !== 'function') return value;
        if (typeof property !== 'string' || property === 'close') return value.bind(object);
        return (...args: unknown[]) => {
          const labels = { backend, command: property };
          const stop = seconds.startTimer(labels);
          const result: unknown = value.apply(object, args);
          if (!(result instanceof Promise)) return result;
          return result.then(
            (settled) => {
              stop();
              return settled;
            },
            (error: unknown) => {
              stop();
              errors.inc(labels);
              throw error;
            },
          );
        };
      },
    });
  backends.store = wrap(backends.store, 'store');
  backends.bus = wrap(backends.bus, 'bus');
  return backends;
}
