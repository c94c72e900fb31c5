import pino from 'pino';
import type { Server } from 'socket.io';
import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../common/state/MemoryStateStore.ts';
import { outageStore, waitFor } from '../common/testing.ts';
import { MeetingRepository } from '../meeting/MeetingRepository.ts';
import type { MeetingFanout } from './MeetingFanout.ts';
import { PushReconciler } from './PushReconciler.ts';

/** socket.io's local view, as far as the reconciler uses it. */
function fakeIo(rooms: Record<string, Array<{ id: string; sub: string }>>) {
  const told: Array<{ to: string; event: string; payload: unknown }> = [];
  const disconnected: string[] = [];
  const socketsOf = (room: string) =>
    (rooms[room] ?? []).map((s) => ({
      id: s.id,
      data: { claims: { sub: s.sub }, joined: true },
      emit: (event: string, payload: unknown) => told.push({ to: s.id, event, payload }),
    }));
  const io = {
    local: {
      in: (room: string) => ({
        fetchSockets: async () => socketsOf(room),
        emit: (event: string, payload: unknown) => told.push({ to: room, event, payload }),
        disconnectSockets: () => disconnected.push(room),
      }),
    },
    sockets: { sockets: new Map(Object.values(rooms).flat().map((s) => [s.id, s])) },
  };
  return { io: io as unknown as Server, told, disconnected };
}

describe('PushReconciler', () => {
  it('tells the clients of a meeting gone from the store meetingEnded and those of a lost seat mediaReset, and does nothing while the store is down', async () => {
    const store = outageStore(new MemoryStateStore());
    await store.set('meeting:kept', JSON.stringify({ id: 'kept' }));
    await store.hashSet('meeting:kept:participants', 'p1', JSON.stringify({ id: 'p1', meetingId: 'kept' }));
    const { io, told, disconnected } = fakeIo({
      'm:kept': [
        { id: 's1', sub: 'p1' },
        { id: 's2', sub: 'p2' },
      ],
      'm:lost': [{ id: 's3', sub: 'q1' }],
    });
    const fanout = { meetings: () => ['kept', 'lost'] } as unknown as MeetingFanout;
    const reconciler = new PushReconciler(io, fanout, new MeetingRepository(store), pino({ level: 'silent' }));
    store.down = true;
    await expect(reconciler.reconcile()).rejects.toThrow();
    expect(told).toEqual([]);
    store.down = false;
    await reconciler.reconcile();
    expect(told).toEqual([{ to: 'm:lost', event: 'meetingEnded', payload: { reason: 'state_lost' } }]);
    await waitFor(() => disconnected.length > 0, { intervalMs: 10, what: 'the lost meeting disconnected' });
    expect(disconnected).toEqual(['m:lost']);
    // The lost seat only on the second look (the seat is written just after the socket joins), and once.
    await reconciler.reconcile();
    await reconciler.reconcile();
    expect(told.filter((t) => t.event === 'mediaReset')).toEqual([{ to: 's2', event: 'mediaReset', payload: { reason: 'state_lost' } }]);
  });
});
