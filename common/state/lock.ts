import { randomUUID } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { StateStore } from './StateStore.ts';

export interface Lock {
  readonly key: string;
  readonly token: string;
  release(): Promise<boolean>;
}

/**
 * A lease on `lock:<name>`. The random token makes release owner-only: a holder whose lease
 * already expired cannot free a lock that someone else now holds.
 */
export async function tryLock(store: StateStore, name: string, ttlMs: number): Promise<Lock | null> {
  const key = `lock:${name}`;
  const token = randomUUID();
  if (!(await store.set(key, token, { ttlMs, onlyIfAbsent: true }))) return null;
  return { key, token, release: () => store.compareAndSet(key, token, null) };
}

/**
 * Waits for the lock, polling, up to `waitMs`. A lock that cannot be had in time is contention,
 * not a bug: it is a 503 `busy` the client may retry, never an `internal` error.
 */
export async function withLock<T>(
  store: StateStore,
  name: string,
  fn: () => Promise<T>,
  options: { ttlMs?: number; waitMs?: number } = {},
): Promise<T> {
  const ttlMs = options.ttlMs ?? 5000;
  const deadline = Date.now() + (options.waitMs ?? 5000);
  let delay = 5;
  for (;;) {
    const lock = await tryLock(store, name, ttlMs);
    if (lock) {
      try {
        return await fn();
      } finally {
        await lock.release();
      }
    }
    if (Date.now() >= deadline) throw new AppError('busy', `could not take lock ${name} within ${options.waitMs ?? 5000} ms; try again`);
    await new Promise((resolve) => setTimeout(resolve, delay + Math.random() * delay));
    delay = Math.min(delay * 2, 100);
  }
}
