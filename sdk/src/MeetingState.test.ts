import type { JoinResult, ParticipantInfo, ProducerInfo } from '@convene/protocol';
import { describe, expect, it } from 'vitest';
import { MeetingState } from './MeetingState.ts';

const person = (id: string): ParticipantInfo => ({
  id,
  name: id,
  role: 'guest',
  grants: { publishAudio: true, publishVideo: true, publishScreen: true, moderate: false },
  kind: 'browser',
  connection: 'connected',
  joinedAt: 1,
});
const producer = (id: string, participantId: string): ProducerInfo => ({ id, participantId, kind: 'audio', source: 'mic', paused: false });

function joined(overrides: Partial<JoinResult> = {}): JoinResult {
  return {
    self: person('me'),
    meeting: { id: 'm1', title: 'Review', locked: false, maxParticipants: 10 },
    participants: [person('me'), person('ann')],
    producers: [producer('mine', 'me'), producer('ann-mic', 'ann')],
    chat: [{ id: 'c1', participantId: 'ann', name: 'ann', text: 'hello', at: 1 }],
    activeSpeakerId: null,
    presentation: null,
    resumed: false,
    sessionToken: 'session',
    ...overrides,
  };
}

describe('MeetingState', () => {
  it('mirrors a join answer, keeping only the others’ producers', () => {
    const state = new MeetingState('me');
    state.applyJoin(joined());
    expect([...state.participants.keys()]).toEqual(['me', 'ann']);
    expect([...state.remoteProducers.keys()]).toEqual(['ann-mic']);
    expect(state.chat).toHaveLength(1);
    expect(state.everJoined).toBe(true);
  });

  it('takes the chat history only once, so a rejoin does not repeat it', () => {
    const state = new MeetingState('me');
    state.applyJoin(joined());
    state.applyJoin(joined({ resumed: true }));
    expect(state.chat).toHaveLength(1);
  });

  it('applies events and reports them, but not its own departure', () => {
    const state = new MeetingState('me');
    state.applyJoin(joined());
    const left: string[] = [];
    state.on('participantLeft', ({ participantId }) => left.push(participantId));
    state.apply.participantJoined({ participant: person('bob') });
    state.apply.participantLeft({ participantId: 'ann', reason: 'left' });
    state.apply.participantLeft({ participantId: 'me', reason: 'left' });
    expect([...state.participants.keys()]).toEqual(['me', 'bob']);
    expect(left).toEqual(['ann']);
  });

  it('keeps its own seat apart when the server updates it (a hand raised or lowered)', () => {
    const state = new MeetingState('me');
    state.applyJoin(joined({ participants: [person('ann')] }));
    const seen: ParticipantInfo[] = [];
    state.on('participantUpdated', (p) => seen.push(p));
    state.apply.participantUpdated({ participant: { ...person('me'), handRaisedAt: 5 } });
    state.apply.participantUpdated({ participant: { ...person('ann'), handRaisedAt: 6 } });
    expect(state.self?.handRaisedAt).toBe(5);
    expect([...state.participants.keys()]).toEqual(['ann']);
    expect(state.participants.get('ann')?.handRaisedAt).toBe(6);
    expect(seen.map((p) => p.id)).toEqual(['me', 'ann']);
  });

  it('tracks the others’ producers through added and closed events', () => {
    const state = new MeetingState('me');
    state.applyJoin(joined());
    state.apply.producerAdded({ producer: producer('bob-cam', 'bob') });
    state.apply.producerAdded({ producer: producer('mine-2', 'me') });
    state.apply.producerClosed({ producerId: 'ann-mic', participantId: 'ann' });
    expect([...state.remoteProducers.keys()]).toEqual(['bob-cam']);
  });
});
