import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MeetingEvent } from '../protocol/src/index.ts';
import { type ServiceHarness, startServiceHarness } from '../test/support/services.ts';
import { meetingChannel } from './contract.ts';

describe.each(['memory', 'redis'] as const)('raised hands and reactions (%s)', (backend) => {
  let h: ServiceHarness;
  let meetingId: string;
  let events: MeetingEvent[];
  let unsubscribe: () => Promise<void>;

  const seat = async (name: string, host = false) => {
    const claims = await h.joinClaims(meetingId, name, { host });
    const { result } = await h.meeting.seats.join(claims, `socket-${name}`, { rtpCapabilities: {}, receiveVideo: false }, h.pushNodeId);
    return { id: claims.sub, result };
  };
  const eventsNamed = async <N extends MeetingEvent['event']>(name: N, count: number) => {
    await expect.poll(() => events.filter((e) => e.event === name).length).toBeGreaterThanOrEqual(count);
    return events.filter((e): e is Extract<MeetingEvent, { event: N }> => e.event === name);
  };

  beforeEach(async () => {
    h = await startServiceHarness(backend, { REACTIONS_PER_10S: '3' });
    ({ id: meetingId } = await h.meeting.meetings.create({ title: 'gestures' }));
    events = [];
    unsubscribe = await h.ctx.backends.bus.subscribe(meetingChannel(meetingId), (m) => events.push(m as MeetingEvent));
  });
  afterEach(async () => {
    await unsubscribe();
    await h.close();
  });

  it('raises a hand once, keeps its place when raised again, and shows it to late joiners', async () => {
    const ann = await seat('Ann');
    const raised = await h.meeting.gestures.setHand(meetingId, ann.id, true);
    expect(raised.handRaisedAt).toEqual(expect.any(Number));
    const again = await h.meeting.gestures.setHand(meetingId, ann.id, true);
    expect(again.handRaisedAt).toBe(raised.handRaisedAt);
    const [update] = await eventsNamed('participantUpdated', 1);
    expect(update?.payload.participant).toMatchObject({ id: ann.id, handRaisedAt: raised.handRaisedAt });
    expect(events.filter((e) => e.event === 'participantUpdated')).toHaveLength(1);

    const bob = await seat('Bob');
    expect(bob.result.participants.find((p) => p.id === ann.id)?.handRaisedAt).toBe(raised.handRaisedAt);
    expect(bob.result.self.handRaisedAt).toBeNull();
  });

  it('lowers a hand, announcing it to everyone', async () => {
    const ann = await seat('Ann');
    await h.meeting.gestures.setHand(meetingId, ann.id, true);
    const lowered = await h.meeting.gestures.setHand(meetingId, ann.id, false);
    expect(lowered.handRaisedAt).toBeNull();
    const updates = await eventsNamed('participantUpdated', 2);
    expect(updates[1]?.payload.participant.handRaisedAt).toBeNull();
    expect((await h.meeting.repo.getParticipant(meetingId, ann.id))?.handRaisedAt).toBeNull();
  });

  it('refuses a hand for someone who is not in the meeting', async () => {
    await expect(h.meeting.gestures.setHand(meetingId, 'nobody', true)).rejects.toMatchObject({ code: 'participant_not_found' });
  });

  it('passes reactions to everyone but the sender, keeps none, and limits how many', async () => {
    const ann = await seat('Ann');
    for (let i = 0; i < 3; i++) await h.meeting.gestures.react(meetingId, ann.id, 'clap');
    const reactions = await eventsNamed('reaction', 3);
    expect(reactions[0]).toMatchObject({ payload: { participantId: ann.id, reaction: 'clap' }, except: ann.id });
    await expect(h.meeting.gestures.react(meetingId, ann.id, 'heart')).rejects.toMatchObject({ code: 'rate_limited' });
    expect(JSON.stringify(await h.keys())).not.toContain('reaction');
  });
});
