import { randomUUID } from 'node:crypto';

/** Redis for tests: a real server on 127.0.0.1, a fresh key prefix per run. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function testPrefix(label = 'test'): string {
  return `convene-${label}-${randomUUID().slice(0, 8)}:`;
}

export async function waitFor<T>(check: () => T | Promise<T>, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${options.what ?? 'condition'}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}

/**
 * A store that can be switched off, failing every call the way the Redis store does during an
 * outage (ioredis gives up on the command), to test code paths that must survive it.
 */
export function outageStore<S extends object>(inner: S): S & { down: boolean } {
  const state = { down: false };
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'down') return state.down;
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (state.down) {
          const error = new Error('Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.');
          error.name = 'MaxRetriesPerRequestError';
          return Promise.reject(error);
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
    set(target, property, value, receiver) {
      if (property === 'down') {
        state.down = Boolean(value);
        return true;
      }
      return Reflect.set(target, property, value, receiver);
    },
  }) as S & { down: boolean };
}
