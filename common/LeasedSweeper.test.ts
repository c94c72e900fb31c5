import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { LeasedSweeper } from './LeasedSweeper.ts';
import { MemoryStateStore } from './state/MemoryStateStore.ts';
import { outageStore } from './testing.ts';

const silent = pino({ level: 'silent' });

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('LeasedSweeper', () => {
  it('lets only one of two nodes run a pass while the lease is held', async () => {
    const store = new MemoryStateStore();
    const gate = deferred();
    const entered = deferred();
    const first = vi.fn(async () => {
      entered.resolve();
      await gate.promise;
    });
    const second = vi.fn(async () => undefined);
    const a = new LeasedSweeper({ name: 'sweep', intervalMs: 1000, store, logger: silent }, first);
    const b = new LeasedSweeper({ name: 'sweep', intervalMs: 1000, store, logger: silent }, second);

    const running = a.sweep();
    await entered.promise;
    expect(await b.sweep()).toBe('leased-elsewhere');
    expect(second).not.toHaveBeenCalled();
    // A second call on the node holding the lease joins its pass instead of starting another.
    const joined = a.sweep();
    gate.resolve();
    expect(await running).toBe('swept');
    expect(await joined).toBe('swept');
    expect(first).toHaveBeenCalledTimes(1);

    // Released: the other node now gets its turn.
    expect(await b.sweep()).toBe('swept');
    expect(second).toHaveBeenCalledTimes(1);
    await store.close();
  });

  it('logs and counts a failing pass, and releases the lease', async () => {
    const store = new MemoryStateStore();
    const metrics = new Registry();
    const logger = { warn: vi.fn(), info: vi.fn() };
    const failing = new LeasedSweeper({ name: 'flaky', intervalMs: 1000, store, logger, metrics }, async () => {
      throw new Error('pass broke');
    });
    await failing.runNow();
    expect(failing.failures).toBe(1);
    expect(logger.warn).toHaveBeenCalledWith(expect.objectContaining({ loop: 'flaky', err: expect.objectContaining({ message: 'pass broke' }) }), expect.any(String));
    expect(await metrics.getSingleMetricAsString('convene_background_errors_total')).toMatch(/convene_background_errors_total\{loop="flaky"\} 1/);
    expect(await store.get('lock:flaky')).toBeNull();
    // A direct call sees the error itself.
    await expect(failing.sweep()).rejects.toThrow('pass broke');
    failing.stop();
    await store.close();
  });

  it('survives a store outage: counted while down, sweeping again once it is back', async () => {
    const store = outageStore(new MemoryStateStore());
    const logger = { warn: vi.fn(), info: vi.fn() };
    const pass = vi.fn(async () => undefined);
    const sweeper = new LeasedSweeper({ name: 'outage', intervalMs: 1000, store, logger }, pass);
    store.down = true;
    await sweeper.runNow();
    await sweeper.runNow();
    expect(sweeper.failures).toBe(2);
    expect(pass).not.toHaveBeenCalled();
    store.down = false;
    await sweeper.runNow();
    expect(sweeper.failures).toBe(0);
    expect(pass).toHaveBeenCalledTimes(1);
    expect(logger.info).toHaveBeenCalledWith(expect.objectContaining({ loop: 'outage', failures: 2 }), 'background work recovered');
    sweeper.stop();
    await store.close();
  });

  it('a pass whose lease cannot be released (the store went down during it) leaves a lease that expires', async () => {
    const store = outageStore(new MemoryStateStore());
    const sweeper = new LeasedSweeper({ name: 'cut', intervalMs: 1000, leaseMs: 50, store, logger: silent }, async () => {
      store.down = true;
    });
    expect(await sweeper.sweep()).toBe('swept');
    store.down = false;
    const other = vi.fn(async () => undefined);
    const next = new LeasedSweeper({ name: 'cut', intervalMs: 1000, store, logger: silent }, other);
    expect(await next.sweep()).toBe('leased-elsewhere');
    await vi.waitFor(async () => expect(await next.sweep()).toBe('swept'));
    expect(other).toHaveBeenCalledTimes(1);
    await store.close();
  });
});
