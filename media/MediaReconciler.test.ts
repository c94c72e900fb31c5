import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../common/state/MemoryStateStore.ts';
import { outageStore } from '../common/testing.ts';
import { MeetingRepository } from '../meeting/MeetingRepository.ts';
import type { MediaNode } from './MediaNode.ts';
import { MediaReconciler } from './MediaReconciler.ts';

function fakeNode(holdings: Map<string, Set<string>>) {
  const closed: string[] = [];
  const node = {
    holdings: () => [...holdings].map(([meetingId, ps]) => ({ meetingId, participantIds: [...ps] })),
    closeMeeting: async ({ meetingId }: { meetingId: string }) => {
      holdings.delete(meetingId);
      closed.push(meetingId);
      return {};
    },
    closeParticipant: async ({ meetingId, participantId }: { meetingId: string; participantId: string }) => {
      holdings.get(meetingId)?.delete(participantId);
      closed.push(`${meetingId}/${participantId}`);
      return {};
    },
  };
  return { node: node as unknown as MediaNode, closed };
}

describe('MediaReconciler', () => {
  it('closes rooms whose meeting is gone and media whose seat stays gone, and does nothing while the store is down', async () => {
    const store = outageStore(new MemoryStateStore());
    await store.set('meeting:kept', JSON.stringify({ id: 'kept' }));
    await store.hashSet('meeting:kept:participants', 'p1', JSON.stringify({ id: 'p1', meetingId: 'kept' }));
    const { node, closed } = fakeNode(
      new Map([
        ['kept', new Set(['p1', 'p2'])],
        ['lost', new Set(['q1'])],
      ]),
    );
    const reconciler = new MediaReconciler(node, new MeetingRepository(store), pino({ level: 'silent' }));
    store.down = true;
    await expect(reconciler.reconcile()).rejects.toThrow();
    expect(closed).toEqual([]);
    store.down = false;
    await reconciler.reconcile();
    // The meeting is gone at once; a missing seat only on the second look (it may be joining).
    expect(closed).toEqual(['lost']);
    await reconciler.reconcile();
    expect(closed).toEqual(['lost', 'kept/p2']);
  });
});
