import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { MemoryStateStore } from '../common/state/MemoryStateStore.ts';
import { outageStore } from '../common/testing.ts';
import { Cleaner } from './Cleaner.ts';
import type { MeetingLifecycle } from './MeetingLifecycle.ts';
import type { SeatService } from './SeatService.ts';

describe('Cleaner', () => {
  it('keeps sweeping after the store failed (an outage must not stop it for good)', async () => {
    const store = outageStore(new MemoryStateStore());
    const releaseExpired = vi.fn(async () => 0);
    const cleaner = new Cleaner(
      store,
      { releaseExpired } as unknown as SeatService,
      { endIdle: async () => 0 } as unknown as MeetingLifecycle,
      { intervalMs: 1000, idleCheckMs: 60_000 },
      pino({ level: 'silent' }),
    );
    store.down = true;
    await cleaner.sweep().catch(() => undefined);
    store.down = false;
    await cleaner.sweep();
    expect(releaseExpired).toHaveBeenCalledTimes(1);
  });
});
