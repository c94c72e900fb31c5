import type { types } from 'mediasoup';
import { AppError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { MediaSource } from '../common/protocol.js';

export interface MediaAppData extends types.AppData {
  meetingId: string;
  participantId: string;
  source?: MediaSource;
  direction?: 'send' | 'recv';
}

/** One participant's mediasoup objects on this node. */
export class ParticipantMedia {
  readonly transports = new Map<string, types.WebRtcTransport<MediaAppData>>();
  readonly producers = new Map<string, types.Producer<MediaAppData>>();
  readonly consumers = new Map<string, types.Consumer<MediaAppData>>();
  rtpCapabilities?: types.RtpCapabilities;

  constructor(readonly participantId: string) {}

  transport(id: string): types.WebRtcTransport<MediaAppData> {
    const transport = this.transports.get(id);
    if (!transport) throw new AppError('not_found', `transport ${id} is not yours or no longer exists`);
    return transport;
  }

  producer(id: string): types.Producer<MediaAppData> {
    const producer = this.producers.get(id);
    if (!producer) throw new AppError('not_found', `producer ${id} is not yours or no longer exists`);
    return producer;
  }

  consumer(id: string): types.Consumer<MediaAppData> {
    const consumer = this.consumers.get(id);
    if (!consumer) throw new AppError('not_found', `consumer ${id} is not yours or no longer exists`);
    return consumer;
  }

  recvTransport(): types.WebRtcTransport<MediaAppData> {
    for (const transport of this.transports.values()) if (transport.appData.direction === 'recv') return transport;
    throw new AppError('bad_request', 'create a recv transport before consuming');
  }

  close(): void {
    for (const transport of this.transports.values()) transport.close();
    this.transports.clear();
    this.producers.clear();
    this.consumers.clear();
  }
}

export interface MediaRoomEvents {
  onActiveSpeaker(participantId: string): void;
  onIdle(): void;
}

/**
 * A meeting's presence on this node: its router, its participants' objects and the active
 * speaker observer. It closes only itself, and reports idleness rather than deciding to close.
 */
export class MediaRoom {
  readonly participants = new Map<string, ParticipantMedia>();
  readonly #speakerObserver: Promise<types.ActiveSpeakerObserver>;
  activeSpeakerId: string | null = null;
  #idleTimer?: NodeJS.Timeout;

  constructor(
    readonly meetingId: string,
    readonly router: types.Router,
    readonly webRtcServer: types.WebRtcServer | undefined,
    private readonly events: MediaRoomEvents,
    private readonly idleTimeoutMs: number,
    readonly logger: Logger,
  ) {
    this.#speakerObserver = router.createActiveSpeakerObserver({ interval: 300 }).then((observer) => {
      observer.on('dominantspeaker', ({ producer }) => {
        const participantId = (producer.appData as MediaAppData).participantId;
        if (participantId) {
          this.activeSpeakerId = participantId;
          events.onActiveSpeaker(participantId);
        }
      });
      return observer;
    });
    this.#armIdleTimer();
  }

  participant(participantId: string, create = false): ParticipantMedia {
    let media = this.participants.get(participantId);
    if (!media && create) {
      media = new ParticipantMedia(participantId);
      this.participants.set(participantId, media);
      this.#disarmIdleTimer();
    }
    if (!media) throw new AppError('not_found', `participant ${participantId} has no media on this node`);
    return media;
  }

  async addAudioToSpeakerDetection(producer: types.Producer): Promise<void> {
    const observer = await this.#speakerObserver;
    await observer.addProducer({ producerId: producer.id }).catch(() => undefined);
  }

  removeParticipant(participantId: string): void {
    this.participants.get(participantId)?.close();
    this.participants.delete(participantId);
    if (this.participants.size === 0) this.#armIdleTimer();
  }

  close(): void {
    this.#disarmIdleTimer();
    for (const media of this.participants.values()) media.close();
    this.participants.clear();
    this.router.close();
  }

  #armIdleTimer(): void {
    this.#disarmIdleTimer();
    this.#idleTimer = setTimeout(() => this.events.onIdle(), this.idleTimeoutMs);
    this.#idleTimer.unref();
  }

  #disarmIdleTimer(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}
