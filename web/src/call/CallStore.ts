import { batch, signal } from '@preact/signals';
import type { ChatMessage, ConveneClient, MeetingSummary, ParticipantInfo, Presentation, ProducerInfo, Reaction, RemoteTrack } from '../session.ts';

export type NoticeKey = 'mutedByHost' | 'mediaFailed' | 'linkCopied' | 'actionFailed' | 'handRaisedBy' | 'handLoweredByHost' | 'reactionsTooFast';

/** How a session ended, as the end screens tell it. */
export type Ending = 'left' | 'removed' | 'ended' | 'lost';

export type MicState = 'none' | 'muted' | 'on';

/** One person as a tile and a people-list row show them. */
export interface Person {
  info: ParticipantInfo;
  self: boolean;
  mic: MicState;
  /** Their camera is on (published and not paused). */
  camera: boolean;
  cameraTrack?: RemoteTrack;
  screenTrack?: RemoteTrack;
  /** When their hand went up; null while it is down. */
  hand: number | null;
}

/** A reaction on screen for a moment. */
export interface ShownReaction {
  key: number;
  participantId: string;
  name: string;
  reaction: Reaction;
}

/** How long a reaction stays on screen. */
const REACTION_MS = 4000;

export function endingOf(reason: string): Ending {
  if (reason === 'left') return 'left';
  if (reason === 'removed') return 'removed';
  if (reason === 'ended' || reason === 'meeting_ended' || reason === 'state_lost') return 'ended';
  return 'lost';
}

/**
 * The call as signals, rebuilt from the SDK's state after each of its events: the client stays
 * the one source of truth (what the server said), and the UI only renders it.
 */
export class CallStore {
  readonly client: ConveneClient;
  readonly people = signal<Person[]>([]);
  readonly meeting = signal<MeetingSummary | undefined>(undefined);
  readonly presentation = signal<Presentation | null>(null);
  readonly activeSpeaker = signal<string | null>(null);
  readonly chat = signal<ChatMessage[]>([]);
  readonly audioTracks = signal<RemoteTrack[]>([]);
  readonly reconnecting = signal(false);
  readonly ending = signal<Ending | null>(null);
  /** A short message for a moment ("A host muted you"), as a catalogue key. */
  readonly notice = signal<{ key: NoticeKey; at: number; vars?: Record<string, string> } | null>(null);
  readonly reactions = signal<ShownReaction[]>([]);
  #reactionKey = 0;
  /** Each shown reaction's removal, cleared with the store so none fires after the call. */
  readonly #reactionTimers = new Set<ReturnType<typeof setTimeout>>();
  readonly #offs: Array<() => void> = [];

  constructor(client: ConveneClient) {
    this.client = client;
    const c = client;
    const sync = () => this.sync();
    this.#offs.push(
      c.on('participantUpdated', (p) => {
        // A hand going up is worth a word to everyone; our own hand lowered by someone else is worth one to us.
        const before = this.people.value.find((x) => x.info.id === p.id)?.hand ?? null;
        const now = p.handRaisedAt ?? null;
        if (now !== null && before === null && p.id !== c.participantId) this.say('handRaisedBy', { name: p.name });
        if (now === null && before !== null && p.id === c.participantId && !this.#loweringOwnHand) this.say('handLoweredByHost');
      }),
    );
    for (const event of ['participantJoined', 'participantUpdated', 'participantLeft', 'track', 'trackEnded', 'producerUpdated', 'joined', 'presentation'] as const) {
      this.#offs.push(c.on(event, sync));
    }
    this.#on('activeSpeaker', (id) => {
      this.activeSpeaker.value = id;
    });
    this.#on('chatMessage', () => {
      this.chat.value = [...c.chat];
    });
    this.#on('meetingUpdated', (m) => {
      this.meeting.value = { ...m };
    });
    this.#on('reaction', ({ participantId, reaction }) => this.showReaction(participantId, reaction));
    this.#on('moderation', (m) => {
      // The SDK pauses our producer right after telling us: read the state once it has.
      queueMicrotask(sync);
      if (m.action === 'mute') this.say('mutedByHost');
    });
    this.#on('reconnecting', () => {
      this.reconnecting.value = true;
    });
    this.#on('reconnected', () => {
      batch(() => {
        this.reconnecting.value = false;
        this.sync();
      });
    });
    this.#on('closed', ({ reason }) => {
      batch(() => {
        this.reconnecting.value = false;
        this.ending.value = endingOf(reason);
      });
    });
    this.sync();
  }

  readonly #on: ConveneClient['on'] = (event, handler) => {
    const off = this.client.on(event, handler);
    this.#offs.push(off);
    return off;
  };

  say(key: NoticeKey, vars?: Record<string, string>): void {
    this.notice.value = { key, at: Date.now(), vars };
  }

  #loweringOwnHand = false;

  /** Raises or lowers our hand; the button shows what the server answered. */
  async setHand(raised: boolean): Promise<void> {
    this.#loweringOwnHand = !raised;
    try {
      await this.client.raiseHand(raised);
    } finally {
      this.#loweringOwnHand = false;
    }
  }

  /** Sends a reaction and shows it here too (the server does not echo it). */
  async react(reaction: Reaction): Promise<void> {
    try {
      await this.client.react(reaction);
    } catch (error) {
      if ((error as { code?: string }).code === 'rate_limited') return this.say('reactionsTooFast');
      throw error;
    }
    this.showReaction(this.selfId, reaction);
  }

  showReaction(participantId: string, reaction: Reaction): void {
    const name = this.people.value.find((p) => p.info.id === participantId)?.info.name ?? '';
    const shown: ShownReaction = { key: ++this.#reactionKey, participantId, name, reaction };
    // A burst of reactions stays readable: the newest few only.
    this.reactions.value = [...this.reactions.value.slice(-7), shown];
    const timer = setTimeout(() => {
      this.#reactionTimers.delete(timer);
      this.reactions.value = this.reactions.value.filter((r) => r !== shown);
    }, REACTION_MS);
    this.#reactionTimers.add(timer);
  }

  get selfId(): string {
    return this.client.participantId;
  }

  /** Host tools: the token's grant, not the role's name, is what the server checks. */
  get canModerate(): boolean {
    return this.client.self?.grants.moderate ?? false;
  }

  /** Re-reads everything from the client; called after local actions too. */
  sync(): void {
    const c = this.client;
    const producers = [...c.remoteProducers.values()];
    const tracks = [...c.remoteTracks.values()];
    const everyone = [...(c.self ? [c.self] : []), ...c.participants.values()];
    const people = everyone.map((info) => (info.id === c.participantId ? this.#selfPerson(info) : personOf(info, producers, tracks)));
    batch(() => {
      this.people.value = people;
      this.meeting.value = c.meeting ? { ...c.meeting } : undefined;
      this.presentation.value = c.presentation;
      this.activeSpeaker.value = c.activeSpeakerId;
      this.chat.value = [...c.chat];
      this.audioTracks.value = tracks.filter((t) => t.kind === 'audio');
    });
  }

  #selfPerson(info: ParticipantInfo): Person {
    const c = this.client;
    const mic = c.publication('mic');
    const camera = c.publication('camera');
    return {
      info,
      self: true,
      mic: mic ? (mic.paused ? 'muted' : 'on') : 'none',
      camera: camera !== undefined && !camera.paused,
      hand: info.handRaisedAt ?? null,
    };
  }

  dispose(): void {
    for (const off of this.#offs.splice(0)) off();
    for (const timer of this.#reactionTimers) clearTimeout(timer);
    this.#reactionTimers.clear();
  }
}

function personOf(info: ParticipantInfo, producers: ProducerInfo[], tracks: RemoteTrack[]): Person {
  const mine = producers.filter((p) => p.participantId === info.id);
  const mic = mine.find((p) => p.source === 'mic');
  const camera = mine.find((p) => p.source === 'camera');
  const cameraTrack = tracks.find((t) => t.participantId === info.id && t.source === 'camera');
  return {
    info,
    self: false,
    mic: mic ? (mic.paused ? 'muted' : 'on') : 'none',
    camera: camera !== undefined && !camera.paused && cameraTrack !== undefined,
    cameraTrack,
    screenTrack: tracks.find((t) => t.participantId === info.id && t.source === 'screen'),
    hand: info.handRaisedAt ?? null,
  };
}
