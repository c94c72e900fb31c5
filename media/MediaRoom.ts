import type { types } from 'mediasoup';
import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { MediaSource } from '../protocol/src/index.ts';
import type { MeetingMix } from './mixer/MeetingMix.ts';
import { detach } from '../common/detach.ts';

export interface MediaAppData extends types.AppData {
  meetingId: string;
  participantId: string;
  source?: MediaSource;
  /** WebRTC transports go one way; a plain RTP transport (bots, gateways, mixer) both ways. */
  direction?: 'send' | 'recv' | 'plain';
  /** On a consumer: the transport it was made on. */
  transportId?: string;
}

/** One router of a meeting on this node, on one worker. */
export class RouterSlot {
  readonly consumers = new Set<string>();
  participants = 0;

  readonly router: types.Router;
  readonly workerIndex: number;
  readonly webRtcServer: types.WebRtcServer | undefined;
  constructor(
    router: types.Router,
    workerIndex: number,
    webRtcServer: types.WebRtcServer | undefined,
  ) {
    this.router = router;
    this.workerIndex = workerIndex;
    this.webRtcServer = webRtcServer;
  }
}

/** A producer the room can route: published here, or imported from another node. */
export interface RoomProducer {
  producer: types.Producer<MediaAppData>;
  slot: RouterSlot;
  participantId: string;
  source: MediaSource;
  importedFrom?: string;
}

/** A PipeTransport to another node: `import` pulls its producers here, `export` pushes ours. */
export interface NodePipe {
  pipeId: string;
  peerNodeId: string;
  direction: 'import' | 'export';
  transport: types.PipeTransport;
}

/** What one participant may hold on a node at once. */
export interface ParticipantLimits {
  transports: number;
  producers: number;
  consumers: number;
}

/** One participant's mediasoup objects on this node. */
export class ParticipantMedia {
  readonly transports = new Map<string, types.Transport<MediaAppData>>();
  readonly producers = new Map<string, types.Producer<MediaAppData>>();
  readonly consumers = new Map<string, types.Consumer<MediaAppData>>();
  rtpCapabilities?: types.RtpCapabilities;
  /** Objects being created: counted against the limits so that concurrent requests cannot overshoot them. */
  readonly #creating: Record<keyof ParticipantLimits, number> = { transports: 0, producers: 0, consumers: 0 };
  /** Consumes in flight, per producer: a second waits for the first, so the rule below holds for concurrent requests. */
  readonly #consuming = new Map<string, Promise<unknown>>();

  readonly participantId: string;
  readonly slot: RouterSlot;
  constructor(
    participantId: string,
    slot: RouterSlot,
  ) {
    this.participantId = participantId;
    this.slot = slot;
  }

  transport(id: string): types.Transport<MediaAppData> {
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

  /**
   * Creates one more object of a kind unless the participant already holds `max`; `create`
   * must add it to its map before resolving.
   */
  async withinLimit<T>(kind: keyof ParticipantLimits, max: number, create: () => Promise<T>): Promise<T> {
    if (this[kind].size + this.#creating[kind] >= max) {
      throw new AppError('limit_reached', `a participant may hold at most ${max} ${kind} on a media node`, { limit: kind, max });
    }
    this.#creating[kind]++;
    try {
      return await create();
    } finally {
      this.#creating[kind]--;
    }
  }

  /**
   * One consumer per producer: a second consume on the same transport is refused with the
   * existing consumer's id. A consumer on another transport (the client rebuilt its receive
   * transport) is replaced, so the count stays one.
   */
  async consumeOnce<T>(producerId: string, transport: types.Transport<MediaAppData>, create: () => Promise<T>): Promise<T> {
    for (let pending = this.#consuming.get(producerId); pending; pending = this.#consuming.get(producerId)) {
      await pending.catch(() => undefined);
    }
    for (const consumer of this.consumers.values()) {
      if (consumer.producerId !== producerId || consumer.closed) continue;
      if (consumer.appData.transportId === transport.id) {
        throw new AppError('already_consuming', `you already consume producer ${producerId}`, { producerId, consumerId: consumer.id });
      }
      consumer.close();
    }
    const work = create();
    this.#consuming.set(producerId, work);
    try {
      return await work;
    } finally {
      this.#consuming.delete(producerId);
    }
  }

  /** The given transport if it can receive, else the participant's WebRTC recv transport. */
  receivingTransport(id?: string): types.Transport<MediaAppData> {
    if (id !== undefined) {
      const transport = this.transport(id);
      if (transport.appData.direction === 'send') throw new AppError('bad_request', 'cannot consume on a send transport');
      return transport;
    }
    for (const transport of this.transports.values()) if (transport.appData.direction === 'recv' && !transport.closed) return transport;
    throw new AppError('bad_request', 'create a recv transport before consuming');
  }

  close(): void {
    for (const transport of this.transports.values()) transport.close();
    this.transports.clear();
    this.producers.clear();
    this.consumers.clear();
  }
}

export interface MediaRoomHooks {
  onActiveSpeaker(participantId: string): void;
  onIdle(): void;
  /** A router on another worker for this room; throws `node_full` when none is left. */
  addRouter(usedWorkers: ReadonlySet<number>): Promise<RouterSlot>;
}

/**
 * A meeting's presence on this node: one or more routers (one per worker, so that
 * pipeToRouter is allowed between them), its participants' objects, the producers it can
 * route, and pipes to other nodes. It closes only itself and reports idleness rather than
 * deciding to close.
 */
export class MediaRoom {
  readonly slots: RouterSlot[];
  readonly participants = new Map<string, ParticipantMedia>();
  readonly producers = new Map<string, RoomProducer>();
  readonly pipes = new Map<string, NodePipe>();
  /** Imports in progress or done, so that concurrent consumers share one. */
  readonly imports = new Map<string, Promise<RoomProducer>>();
  readonly importPipes = new Map<string, Promise<NodePipe>>();
  readonly #piped = new Map<string, Promise<void>>();
  readonly #speakerObserver: Promise<types.ActiveSpeakerObserver>;
  #addingSlot?: Promise<RouterSlot>;
  activeSpeakerId: string | null = null;
  /** The audio mix, present while the meeting has phone legs on this node. */
  mix?: MeetingMix;
  #idleTimer?: NodeJS.Timeout;

  readonly meetingId: string;
  private readonly hooks: MediaRoomHooks;
  private readonly idleTimeoutMs: number;
  readonly logger: Logger;
  constructor(
    meetingId: string,
    primary: RouterSlot,
    hooks: MediaRoomHooks,
    idleTimeoutMs: number,
    logger: Logger,
  ) {
    this.meetingId = meetingId;
    this.hooks = hooks;
    this.idleTimeoutMs = idleTimeoutMs;
    this.logger = logger;
    this.slots = [primary];
    // One observer on the primary router; every audio producer is piped there to be heard.
    this.#speakerObserver = primary.router.createActiveSpeakerObserver({ interval: 300 }).then((observer) => {
      observer.on('dominantspeaker', ({ producer }) => {
        const participantId = (producer.appData as MediaAppData).participantId;
        if (participantId) {
          this.activeSpeakerId = participantId;
          hooks.onActiveSpeaker(participantId);
        }
      });
      return observer;
    });
    this.#armIdleTimer();
  }

  get primary(): RouterSlot {
    return this.slots[0]!;
  }

  get closed(): boolean {
    return this.primary.router.closed;
  }

  consumerCount(): number {
    return this.slots.reduce((n, s) => n + s.consumers.size, 0);
  }

  participant(participantId: string): ParticipantMedia {
    const media = this.participants.get(participantId);
    if (!media) throw new AppError('not_found', `participant ${participantId} has no media on this node`);
    return media;
  }

  /** Seats a participant on a router under its consumer budget, adding a router if all are full. */
  async admit(participantId: string, consumerBudget: number): Promise<ParticipantMedia> {
    const existing = this.participants.get(participantId);
    if (existing) return existing;
    let slot = this.slots.find((s) => !s.router.closed && s.consumers.size < consumerBudget);
    if (!slot) {
      this.#addingSlot ??= this.hooks.addRouter(new Set(this.slots.map((s) => s.workerIndex))).finally(() => {
        this.#addingSlot = undefined;
      });
      slot = await this.#addingSlot;
      if (!this.slots.includes(slot)) this.slots.push(slot);
      this.logger.info({ routerId: slot.router.id, workerIndex: slot.workerIndex }, 'meeting spread to another worker');
    }
    const again = this.participants.get(participantId);
    if (again) return again;
    const media = new ParticipantMedia(participantId, slot);
    slot.participants++;
    this.participants.set(participantId, media);
    this.#disarmIdleTimer();
    return media;
  }

  addProducer(entry: RoomProducer): void {
    this.producers.set(entry.producer.id, entry);
    entry.producer.observer.once('close', () => {
      if (this.producers.get(entry.producer.id) === entry) this.producers.delete(entry.producer.id);
      this.imports.delete(entry.producer.id);
    });
    if (entry.producer.kind === 'audio') {
      detach(
        this.logger,
        'adding a producer to the active speaker observer',
        this.ensureInSlot(entry, this.primary).then(async () => (await this.#speakerObserver).addProducer({ producerId: entry.producer.id })),
      );
      if (this.mix) detach(this.logger, 'giving the mixer an input', this.mix.addProducer(entry));
    }
  }

  /** Makes a producer consumable on another router of this room (pipeToRouter, across workers). */
  async ensureInSlot(entry: RoomProducer, slot: RouterSlot): Promise<void> {
    if (entry.slot === slot) return;
    const key = `${entry.producer.id}@${slot.router.id}`;
    let pending = this.#piped.get(key);
    if (!pending) {
      pending = entry.slot.router
        .pipeToRouter({ producerId: entry.producer.id, router: slot.router })
        .then(({ pipeProducer }) => {
          pipeProducer?.observer.once('close', () => this.#piped.delete(key));
        })
        .catch((error: unknown) => {
          this.#piped.delete(key);
          throw error;
        });
      this.#piped.set(key, pending);
    }
    await pending;
  }

  removeParticipant(participantId: string): void {
    const media = this.participants.get(participantId);
    if (!media) return;
    media.close();
    media.slot.participants--;
    this.participants.delete(participantId);
    if (this.mix?.removeOutput(participantId) && this.mix.outputs === 0) {
      // No phone leg left: the mix stops, and with it all its work.
      this.mix.close();
      this.mix = undefined;
    }
    if (this.participants.size === 0) this.#armIdleTimer();
  }

  /** Closes every pipe to a node (it died or left); imported producers close with them. */
  forgetPeer(peerNodeId: string): number {
    let closed = 0;
    for (const [pipeId, pipe] of this.pipes) {
      if (pipe.peerNodeId !== peerNodeId) continue;
      pipe.transport.close();
      this.pipes.delete(pipeId);
      closed++;
    }
    this.importPipes.delete(peerNodeId);
    for (const entry of [...this.producers.values()]) if (entry.importedFrom === peerNodeId) entry.producer.close();
    return closed;
  }

  close(): void {
    this.#disarmIdleTimer();
    this.mix?.close();
    for (const media of this.participants.values()) media.close();
    this.participants.clear();
    for (const slot of this.slots) slot.router.close();
  }

  #armIdleTimer(): void {
    this.#disarmIdleTimer();
    this.#idleTimer = setTimeout(() => this.hooks.onIdle(), this.idleTimeoutMs);
    this.#idleTimer.unref();
  }

  #disarmIdleTimer(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}
