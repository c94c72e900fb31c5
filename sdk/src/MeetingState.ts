import type { ChatMessage, JoinResult, MeetingSummary, ParticipantInfo, Presentation, ProducerInfo, ServerEvents } from '@convene/protocol';
import { Emitter } from './Emitter.ts';
import type { ClientEvents } from './types.ts';

type StateEvents = Pick<
  ClientEvents,
  'participantJoined' | 'participantUpdated' | 'participantLeft' | 'producerUpdated' | 'activeSpeaker' | 'chatMessage' | 'meetingUpdated' | 'presentation' | 'fileUpdated'
>;

/** The server events this mirror applies; the others concern the media session or the connection. */
export type MirroredEvent =
  | 'participantJoined'
  | 'participantUpdated'
  | 'participantLeft'
  | 'producerAdded'
  | 'producerUpdated'
  | 'producerClosed'
  | 'activeSpeaker'
  | 'chatMessage'
  | 'meetingUpdated'
  | 'presentation'
  | 'fileUpdated';

/**
 * The client's copy of the meeting: who is there, what they publish, the chat, the
 * presentation. Filled by the join answer and kept current by server events; knows nothing of
 * sockets or media.
 */
export class MeetingState extends Emitter<StateEvents> {
  readonly participants = new Map<string, ParticipantInfo>();
  /** What the others publish, as last announced by the server (paused = muted). */
  readonly remoteProducers = new Map<string, ProducerInfo>();
  readonly chat: ChatMessage[] = [];
  self?: ParticipantInfo;
  meeting?: MeetingSummary;
  activeSpeakerId: string | null = null;
  presentation: Presentation | null = null;
  #everJoined = false;

  readonly participantId: string;
  constructor(participantId: string) {
    super();
    this.participantId = participantId;
  }

  get everJoined(): boolean {
    return this.#everJoined;
  }

  /** Replaces the mirror with a join answer; chat history is taken only the first time. */
  applyJoin(result: JoinResult): void {
    this.self = result.self;
    this.meeting = result.meeting;
    this.activeSpeakerId = result.activeSpeakerId;
    this.presentation = result.presentation;
    this.participants.clear();
    for (const p of result.participants) this.participants.set(p.id, p);
    if (!this.#everJoined) this.chat.push(...result.chat);
    this.#everJoined = true;
    this.remoteProducers.clear();
    for (const p of result.producers) if (p.participantId !== this.participantId) this.remoteProducers.set(p.id, p);
  }

  /** A message this client sent: the server does not echo it back. */
  addOwnChat(message: ChatMessage): void {
    this.chat.push(message);
    this.emit('chatMessage', message);
  }

  readonly apply: { [E in MirroredEvent]: (payload: ServerEvents[E]) => void } = {
    participantJoined: ({ participant }) => {
      this.participants.set(participant.id, participant);
      this.emit('participantJoined', participant);
    },
    participantUpdated: ({ participant }) => {
      // Our own seat changes too (a hand raised or lowered by a host): it is `self`, not one of the others.
      if (participant.id === this.participantId) this.self = participant;
      else this.participants.set(participant.id, participant);
      this.emit('participantUpdated', participant);
    },
    participantLeft: ({ participantId, reason }) => {
      if (participantId === this.participantId) return;
      this.participants.delete(participantId);
      this.emit('participantLeft', { participantId, reason });
    },
    producerAdded: ({ producer }) => {
      if (producer.participantId !== this.participantId) this.remoteProducers.set(producer.id, producer);
    },
    producerUpdated: ({ producer }) => {
      if (producer.participantId !== this.participantId) this.remoteProducers.set(producer.id, producer);
      this.emit('producerUpdated', producer);
    },
    producerClosed: ({ producerId }) => {
      this.remoteProducers.delete(producerId);
    },
    activeSpeaker: ({ participantId }) => {
      this.activeSpeakerId = participantId;
      this.emit('activeSpeaker', participantId);
    },
    chatMessage: ({ message }) => {
      this.chat.push(message);
      this.emit('chatMessage', message);
    },
    meetingUpdated: ({ meeting }) => {
      this.meeting = meeting;
      this.emit('meetingUpdated', meeting);
    },
    presentation: ({ presentation }) => {
      this.presentation = presentation;
      this.emit('presentation', presentation);
    },
    fileUpdated: ({ file, deleted }) => this.emit('fileUpdated', file, { deleted: deleted ?? false }),
  };
}
