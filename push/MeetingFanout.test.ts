import pino from 'pino';
import type { Server } from 'socket.io';
import { describe, expect, it } from 'vitest';
import type { EventBus } from '../common/bus/EventBus.ts';
import { MemoryEventBus } from '../common/bus/MemoryEventBus.ts';
import { AppError } from '../common/errors.ts';
import { MeetingFanout } from './MeetingFanout.ts';

describe('MeetingFanout', () => {
  it('tries again after a subscribe that failed, instead of failing every later join', async () => {
    const inner = new MemoryEventBus();
    let down = true;
    const bus: EventBus = {
      kind: 'memory',
      publish: (c, m) => inner.publish(c, m),
      subscribe: (c, h) => (down ? Promise.reject(new AppError('store_unavailable', 'down')) : inner.subscribe(c, h)),
      close: () => inner.close(),
    };
    const fanout = new MeetingFanout({} as Server, bus, pino({ level: 'silent' }));
    await expect(fanout.attach('m1')).rejects.toMatchObject({ code: 'store_unavailable' });
    down = false;
    await expect(fanout.attach('m1')).resolves.toBeUndefined();
  });
});
