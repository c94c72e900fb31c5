import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import { NotFoundError, WorkerClosedError } from 'mediasoup/errors';
import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { ConsumerOptions, MediaSource, MeetingEvent, TransportOptions } from '../protocol/src/index.ts';
import { ROUTER_MEDIA_CODECS } from './codecs.ts';
import type { MediaClient } from './MediaClient.ts';
import { type MediaAppData, MediaRoom, type NodePipe, type ParticipantLimits, type RoomProducer, RouterSlot } from './MediaRoom.ts';
import { AudioMixer } from './mixer/AudioMixer.ts';
import { MeetingMix } from './mixer/MeetingMix.ts';
import type { OutputCodec } from './mixer/protocol.ts';
import type { WorkerPool } from './WorkerPool.ts';
import { detach } from '../common/detach.ts';

export interface MediaNodeOptions {
  nodeId: string;
  routerIdleTimeoutMs: number;
  consumersPerRouter: number;
  /** The node refuses new participants at this many consumers in all. */
  maxConsumers: number;
  listenIp: string;
  announcedAddress?: string;
  /** Per participant, so that one client cannot fill the node. */
  limits: ParticipantLimits;
}

/** Notices between media nodes about producers piped from one to the other. */
export type PeerNotice = { type: 'producerClosed' | 'producerPaused' | 'producerResumed'; meetingId: string; producerId: string; from: string };

export interface MediaNodeLinks {
  /** Client-facing meeting events. */
  publish(meetingId: string, event: MeetingEvent): void;
  /** A notice to another media node. */
  notifyPeer(nodeId: string, notice: PeerNotice): void;
  /** Calls to other media nodes, for piping. */
  peers?: MediaClient;
}

type Who = { meetingId: string; participantId: string };
type Empty = Record<string, never>;

/**
 * The media tier's whole API. Every method takes and returns plain JSON, so that it is called
 * in-process (embedded mode) or over HTTP (distributed mode) without change. Identity (`Who`)
 * comes from the caller's verified token, never from client input: a participant can touch
 * only its own transports, producers and consumers.
 */
export class MediaNode {
  readonly #rooms = new Map<string, MediaRoom>();
  readonly #roomCreation = new Map<string, Promise<MediaRoom>>();
  #draining = false;
  #mixer?: AudioMixer;

  private readonly pool: WorkerPool;
  private readonly links: MediaNodeLinks;
  private readonly options: MediaNodeOptions;
  private readonly logger: Logger;
  constructor(
    pool: WorkerPool,
    links: MediaNodeLinks,
    options: MediaNodeOptions,
    logger: Logger,
  ) {
    this.pool = pool;
    this.links = links;
    this.options = options;
    this.logger = logger;
    pool.on('workerDied', ({ index }) => this.#onWorkerDied(index));
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  /** The client for calls to other media nodes; set once the process's client exists. */
  connectPeers(peers: MediaClient): void {
    this.links.peers = peers;
  }

  get roomCount(): number {
    return this.#rooms.size;
  }

  get participantCount(): number {
    let n = 0;
    for (const room of this.#rooms.values()) n += room.participants.size;
    return n;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Takes no new meetings or participants from now on; calls in progress go on. */
  startDraining(): void {
    this.#draining = true;
  }

  get full(): boolean {
    return this.pool.totalLoad().consumers >= this.options.maxConsumers;
  }

  /** Meetings hosted here and their participants, to check against the store. */
  holdings(): Array<{ meetingId: string; participantIds: string[] }> {
    return [...this.#rooms].map(([meetingId, room]) => ({ meetingId, participantIds: [...room.participants.keys()] }));
  }

  /** Peers this node has pipes with, for the liveness check. */
  peers(): Set<string> {
    const peers = new Set<string>();
    for (const room of this.#rooms.values()) for (const pipe of room.pipes.values()) peers.add(pipe.peerNodeId);
    return peers;
  }

  async getRouterRtpCapabilities({ meetingId }: { meetingId: string }): Promise<{ rtpCapabilities: types.RtpCapabilities }> {
    const room = await this.#ensureRoom(meetingId);
    return { rtpCapabilities: room.primary.router.rtpCapabilities };
  }

  /** Seats a participant's media here; refuses newcomers when draining or full. Idempotent. */
  async registerParticipant({ meetingId, participantId, rtpCapabilities }: Who & { rtpCapabilities: unknown }): Promise<{ activeSpeakerId: string | null }> {
    const known = this.#rooms.get(meetingId)?.participants.get(participantId);
    if (!known) {
      if (this.#draining) throw new AppError('node_draining', `media node ${this.nodeId} is draining`);
      if (this.full) throw new AppError('node_full', `media node ${this.nodeId} is full`);
    }
    const room = await this.#ensureRoom(meetingId);
    const media = await room.admit(participantId, this.options.consumersPerRouter);
    media.rtpCapabilities = rtpCapabilities as types.RtpCapabilities;
    return { activeSpeakerId: room.activeSpeakerId };
  }

  async createWebRtcTransport({ meetingId, participantId, direction }: Who & { direction: 'send' | 'recv' }): Promise<TransportOptions> {
    const media = this.#media({ meetingId, participantId });
    const { slot } = media;
    if (!slot.webRtcServer) throw new AppError('unavailable', 'this media node has no WebRtcServer');
    const webRtcServer = slot.webRtcServer;
    const transport = await media.withinLimit('transports', this.options.limits.transports, async () => {
      const created = await slot.router.createWebRtcTransport<MediaAppData>({
        webRtcServer,
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        initialAvailableOutgoingBitrate: 1_000_000,
        appData: { meetingId, participantId, direction },
      });
      media.transports.set(created.id, created);
      created.observer.once('close', () => media.transports.delete(created.id));
      return created;
    });
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  async connectTransport({ meetingId, participantId, transportId, dtlsParameters }: Who & { transportId: string; dtlsParameters: unknown }): Promise<Empty> {
    const transport = this.#media({ meetingId, participantId }).transport(transportId);
    await clientFault(() => transport.connect({ dtlsParameters: dtlsParameters as types.DtlsParameters }));
    return {};
  }

  async restartIce({ meetingId, participantId, transportId }: Who & { transportId: string }): Promise<{ iceParameters: unknown }> {
    const transport = this.#media({ meetingId, participantId }).transport(transportId);
    if (transport.type !== 'webrtc') throw new AppError('bad_request', 'only WebRTC transports restart ICE');
    return { iceParameters: await (transport as unknown as types.WebRtcTransport).restartIce() };
  }

  /**
   * Plain RTP for peers without WebRTC: the SIP gateway, the audio mixer, RTP load bots. With
   * `comedia` the transport learns the peer's address from its first packet.
   */
  async createPlainTransport({ meetingId, participantId, comedia }: Who & { comedia?: boolean }): Promise<{ id: string; ip: string; port: number }> {
    const media = this.#media({ meetingId, participantId });
    const transport = await media.withinLimit('transports', this.options.limits.transports, async () => {
      const created = await media.slot.router.createPlainTransport<MediaAppData>({
        listenInfo: { protocol: 'udp', ip: this.options.listenIp, announcedAddress: this.options.announcedAddress },
        rtcpMux: true,
        comedia: comedia ?? false,
        appData: { meetingId, participantId, direction: 'plain' },
      });
      media.transports.set(created.id, created);
      created.observer.once('close', () => media.transports.delete(created.id));
      return created;
    });
    return { id: transport.id, ip: this.options.announcedAddress ?? transport.tuple.localAddress ?? this.options.listenIp, port: transport.tuple.localPort };
  }

  async connectPlainTransport({ meetingId, participantId, transportId, ip, port }: Who & { transportId: string; ip: string; port: number }): Promise<Empty> {
    const transport = this.#media({ meetingId, participantId }).transport(transportId);
    if (transport.type !== 'plain') throw new AppError('bad_request', 'not a plain transport');
    await clientFault(() => (transport as unknown as types.PlainTransport).connect({ ip, port }));
    return {};
  }

  async produce(
    params: Who & { transportId: string; kind: 'audio' | 'video'; rtpParameters: unknown; source: MediaSource; paused?: boolean },
  ): Promise<{ producerId: string }> {
    const room = this.#room(params.meetingId);
    const media = room.participant(params.participantId);
    const transport = media.transport(params.transportId);
    if (transport.appData.direction === 'recv') throw new AppError('bad_request', 'produce needs a send transport');
    const producer = await media.withinLimit('producers', this.options.limits.producers, async () => {
      const created = await clientFault(() =>
        transport.produce<MediaAppData>({
          kind: params.kind,
          rtpParameters: params.rtpParameters as types.RtpParameters,
          paused: params.paused ?? false,
          appData: { meetingId: params.meetingId, participantId: params.participantId, source: params.source, transportId: transport.id },
        }),
      );
      media.producers.set(created.id, created);
      created.observer.once('close', () => media.producers.delete(created.id));
      return created;
    });
    room.addProducer({ producer, slot: media.slot, participantId: params.participantId, source: params.source });
    return { producerId: producer.id };
  }

  /**
   * Closes one of the participant's transports, with its producers and consumers, so a client
   * that rebuilds its media frees what it abandoned. Idempotent; answers the producers that
   * went with it, which the meeting tier must announce as closed.
   */
  async closeTransport({ meetingId, participantId, transportId }: Who & { transportId: string }): Promise<{ producerIds: string[] }> {
    const media = this.#rooms.get(meetingId)?.participants.get(participantId);
    const transport = media?.transports.get(transportId);
    if (!media || !transport) return { producerIds: [] };
    const producerIds = [...media.producers.values()].filter((p) => p.appData.transportId === transportId).map((p) => p.id);
    transport.close();
    return { producerIds };
  }

  async closeProducer({ meetingId, participantId, producerId }: Who & { producerId: string }): Promise<Empty> {
    this.#rooms.get(meetingId)?.participants.get(participantId)?.producers.get(producerId)?.close();
    return {};
  }

  async pauseProducer({ meetingId, participantId, producerId }: Who & { producerId: string }): Promise<Empty> {
    await this.#media({ meetingId, participantId }).producer(producerId).pause();
    return {};
  }

  async resumeProducer({ meetingId, participantId, producerId }: Who & { producerId: string }): Promise<Empty> {
    await this.#media({ meetingId, participantId }).producer(producerId).resume();
    return {};
  }

  /**
   * Consumers start paused: the client resumes once its consumer exists, so no keyframe is
   * lost. A producer on another node is piped here first (`producerNodeId` says where).
   */
  async consume({
    meetingId,
    participantId,
    producerId,
    producerNodeId,
    transportId,
    paused,
  }: Who & { producerId: string; producerNodeId?: string; transportId?: string; paused?: boolean }): Promise<ConsumerOptions> {
    const room = this.#room(meetingId);
    const media = room.participant(participantId);
    if (!media.rtpCapabilities) throw new AppError('bad_request', 'join with rtpCapabilities before consuming');
    let entry = room.producers.get(producerId);
    if (!entry && producerNodeId && producerNodeId !== this.nodeId) entry = await this.#importProducer(room, producerNodeId, producerId);
    if (!entry) throw new AppError('not_found', `producer ${producerId} does not exist`);
    if (entry.participantId === participantId) throw new AppError('bad_request', 'cannot consume your own producer');
    await room.ensureInSlot(entry, media.slot);
    const router = media.slot.router;
    if (!router.canConsume({ producerId, rtpCapabilities: media.rtpCapabilities })) {
      throw new AppError('bad_request', `your device cannot receive producer ${producerId}`);
    }
    const rtpCapabilities = media.rtpCapabilities;
    const transport = media.receivingTransport(transportId);
    const consumer = await media.consumeOnce(producerId, transport, () =>
      media.withinLimit('consumers', this.options.limits.consumers, async () => {
        const created = await transport.consume<MediaAppData>({
          producerId,
          rtpCapabilities,
          paused: paused ?? true,
          preferredLayers: entry.producer.type === 'simulcast' ? { spatialLayer: 2, temporalLayer: 2 } : undefined,
          appData: { meetingId, participantId, source: entry.source, transportId: transport.id },
        });
        media.consumers.set(created.id, created);
        media.slot.consumers.add(created.id);
        created.observer.once('close', () => {
          media.consumers.delete(created.id);
          media.slot.consumers.delete(created.id);
        });
        return created;
      }),
    );
    consumer.on('producerclose', () => {
      this.links.publish(meetingId, { event: 'consumerClosed', payload: { consumerId: consumer.id, producerId }, to: participantId });
    });
    return {
      id: consumer.id,
      producerId,
      participantId: entry.participantId,
      kind: consumer.kind,
      source: entry.source,
      rtpParameters: consumer.rtpParameters,
      type: consumer.type,
      producerPaused: consumer.producerPaused,
    };
  }

  async resumeConsumer({ meetingId, participantId, consumerId }: Who & { consumerId: string }): Promise<Empty> {
    const consumer = this.#media({ meetingId, participantId }).consumer(consumerId);
    await closedMeansGone(consumer, () => consumer.resume());
    return {};
  }

  async pauseConsumer({ meetingId, participantId, consumerId }: Who & { consumerId: string }): Promise<Empty> {
    const consumer = this.#media({ meetingId, participantId }).consumer(consumerId);
    await closedMeansGone(consumer, () => consumer.pause());
    return {};
  }

  async setConsumerPreferredLayers(params: Who & { consumerId: string; spatialLayer: number; temporalLayer?: number }): Promise<Empty> {
    const consumer = this.#media(params).consumer(params.consumerId);
    await closedMeansGone(consumer, () => consumer.setPreferredLayers({ spatialLayer: params.spatialLayer, temporalLayer: params.temporalLayer }));
    return {};
  }

  /** Idempotent: closing what is already gone succeeds, so callers may retry freely. */
  async closeParticipant({ meetingId, participantId }: Who): Promise<Empty> {
    this.#rooms.get(meetingId)?.removeParticipant(participantId);
    return {};
  }

  async closeMeeting({ meetingId }: { meetingId: string }): Promise<Empty> {
    const room = this.#rooms.get(meetingId);
    if (room) {
      this.#rooms.delete(meetingId);
      room.close();
    }
    return {};
  }

  /**
   * A telephone leg: a plain transport where the gateway sends the caller's voice (as Opus, an
   * ordinary producer once produced), and a mix-minus of everyone else sent to `sendTo` in the
   * caller's codec. The participant must be registered first. With `peer` (the gateway's RTP
   * socket) the transport is connected to it and takes RTP from nowhere else; without it,
   * comedia latches the first sender, which a stranger could be. `mixFrom` is where the
   * mix-minus comes from, so that the gateway can take it from nowhere else.
   */
  async createPhoneLeg({
    meetingId,
    participantId,
    codec,
    sendTo,
    peer,
  }: Who & { codec: OutputCodec; sendTo: { ip: string; port: number }; peer?: { ip: string; port: number } }): Promise<{
    transportId: string;
    ip: string;
    port: number;
    payloadType: number;
    mixFrom: { port: number };
  }> {
    const room = this.#room(meetingId);
    const media = room.participant(participantId);
    const { id: transportId, ip, port } = await this.createPlainTransport({ meetingId, participantId, comedia: peer === undefined });
    if (peer) await this.connectPlainTransport({ meetingId, participantId, transportId, ip: peer.ip, port: peer.port });
    let mix = room.mix;
    if (!mix) {
      mix = new MeetingMix(room, this.#audioMixer(), this.options.listenIp);
      room.mix = mix;
      await mix.start();
    }
    const payloadType = codec === 'PCMU' ? 0 : codec === 'PCMA' ? 8 : 111;
    await mix.addOutput({ participantId: media.participantId, codec, payloadType, ssrc: (Math.random() * 0xffffffff) >>> 0, dest: sendTo });
    return { transportId, ip, port, payloadType, mixFrom: { port: await this.#audioMixer().port() } };
  }

  #audioMixer(): AudioMixer {
    this.#mixer ??= new AudioMixer(this.options.listenIp, this.logger.child({ component: 'mixer' }));
    return this.#mixer;
  }

  /** Called by a node that wants our producers: a PipeTransport here, connected to its one. */
  async openPipe({ meetingId, pipeId, peerNodeId, ip, port }: { meetingId: string; pipeId: string; peerNodeId: string; ip: string; port: number }): Promise<{ ip: string; port: number }> {
    const room = this.#room(meetingId);
    const existing = room.pipes.get(pipeId);
    if (existing) return this.#pipeAddress(existing.transport);
    const transport = await this.#createPipeTransport(room);
    await transport.connect({ ip, port });
    room.pipes.set(pipeId, { pipeId, peerNodeId, direction: 'export', transport });
    transport.observer.once('close', () => room.pipes.delete(pipeId));
    return this.#pipeAddress(transport);
  }

  /** Sends one of our producers down an export pipe; the peer produces it on its side. */
  async pipeProducer({ meetingId, pipeId, producerId }: { meetingId: string; pipeId: string; producerId: string }): Promise<{
    kind: 'audio' | 'video';
    rtpParameters: unknown;
    paused: boolean;
    participantId: string;
    source: MediaSource;
  }> {
    const room = this.#room(meetingId);
    const pipe = room.pipes.get(pipeId);
    if (pipe?.direction !== 'export') throw new AppError('not_found', `pipe ${pipeId} does not exist`);
    const entry = room.producers.get(producerId);
    if (!entry) throw new AppError('not_found', `producer ${producerId} does not exist`);
    await room.ensureInSlot(entry, room.primary);
    const consumer = await pipe.transport.consume({ producerId });
    const notify = (type: PeerNotice['type']) => this.links.notifyPeer(pipe.peerNodeId, { type, meetingId, producerId, from: this.nodeId });
    consumer.on('producerclose', () => notify('producerClosed'));
    consumer.on('producerpause', () => notify('producerPaused'));
    consumer.on('producerresume', () => notify('producerResumed'));
    return { kind: consumer.kind, rtpParameters: consumer.rtpParameters, paused: consumer.producerPaused, participantId: entry.participantId, source: entry.source };
  }

  /** What a peer node tells us about producers it piped here. */
  onPeerNotice(notice: PeerNotice): void {
    const entry = this.#rooms.get(notice.meetingId)?.producers.get(notice.producerId);
    if (!entry || entry.importedFrom !== notice.from) return;
    if (notice.type === 'producerClosed') entry.producer.close();
    else if (notice.type === 'producerPaused') detach(this.logger, 'pausing a piped producer', entry.producer.pause());
    else detach(this.logger, 'resuming a piped producer', entry.producer.resume());
  }

  /** A peer died or left: drop every pipe to it. */
  forgetPeer(peerNodeId: string): void {
    for (const room of this.#rooms.values()) {
      if (room.forgetPeer(peerNodeId) > 0) room.logger.warn({ peerNodeId }, 'closed pipes to a lost media node');
    }
  }

  async close(): Promise<void> {
    for (const meetingId of [...this.#rooms.keys()]) await this.closeMeeting({ meetingId });
    await this.#mixer?.close();
  }

  async #importProducer(room: MediaRoom, peerNodeId: string, producerId: string): Promise<RoomProducer> {
    const peers = this.links.peers;
    if (!peers) throw new AppError('not_found', `producer ${producerId} is on another node and this node cannot reach it`);
    let pending = room.imports.get(producerId);
    if (!pending) {
      pending = (async () => {
        const pipe = await this.#importPipe(room, peerNodeId);
        const remote = await peers.call(peerNodeId, 'pipeProducer', { meetingId: room.meetingId, pipeId: pipe.pipeId, producerId });
        const producer = await pipe.transport.produce<MediaAppData>({
          id: producerId,
          kind: remote.kind,
          rtpParameters: remote.rtpParameters as types.RtpParameters,
          paused: remote.paused,
          appData: { meetingId: room.meetingId, participantId: remote.participantId, source: remote.source },
        });
        const entry: RoomProducer = { producer, slot: room.primary, participantId: remote.participantId, source: remote.source, importedFrom: peerNodeId };
        room.addProducer(entry);
        return entry;
      })();
      pending.catch(() => room.imports.delete(producerId));
      room.imports.set(producerId, pending);
    }
    return pending;
  }

  #importPipe(room: MediaRoom, peerNodeId: string): Promise<NodePipe> {
    let pending = room.importPipes.get(peerNodeId);
    if (!pending) {
      pending = (async () => {
        const transport = await this.#createPipeTransport(room);
        const pipeId = randomUUID();
        try {
          const local = this.#pipeAddress(transport);
          const remote = await this.links.peers!.call(peerNodeId, 'openPipe', { meetingId: room.meetingId, pipeId, peerNodeId: this.nodeId, ...local });
          await transport.connect(remote);
        } catch (error) {
          transport.close();
          throw error;
        }
        const pipe: NodePipe = { pipeId, peerNodeId, direction: 'import', transport };
        room.pipes.set(pipeId, pipe);
        transport.observer.once('close', () => {
          room.pipes.delete(pipeId);
          if (room.importPipes.get(peerNodeId) === pending) room.importPipes.delete(peerNodeId);
        });
        room.logger.info({ peerNodeId, pipeId }, 'piped meeting to another media node');
        return pipe;
      })();
      pending.catch(() => room.importPipes.delete(peerNodeId));
      room.importPipes.set(peerNodeId, pending);
    }
    return pending;
  }

  #createPipeTransport(room: MediaRoom): Promise<types.PipeTransport> {
    return room.primary.router.createPipeTransport({
      listenInfo: { protocol: 'udp', ip: this.options.listenIp, announcedAddress: this.options.announcedAddress },
    });
  }

  #pipeAddress(transport: types.PipeTransport): { ip: string; port: number } {
    return { ip: this.options.announcedAddress ?? transport.tuple.localAddress ?? this.options.listenIp, port: transport.tuple.localPort };
  }

  async #ensureRoom(meetingId: string): Promise<MediaRoom> {
    const existing = this.#rooms.get(meetingId);
    if (existing && !existing.closed) return existing;
    if (this.#draining) throw new AppError('node_draining', `media node ${this.nodeId} is draining`);
    // Concurrent joins to a new meeting must share one router, not race to make two.
    let pending = this.#roomCreation.get(meetingId);
    if (!pending) {
      pending = this.#createRoom(meetingId).finally(() => this.#roomCreation.delete(meetingId));
      this.#roomCreation.set(meetingId, pending);
    }
    return pending;
  }

  async #createSlot(meetingId: string, usedWorkers: ReadonlySet<number>): Promise<RouterSlot> {
    const worker = this.pool.leastLoaded(usedWorkers);
    if (!worker) throw new AppError('node_full', `media node ${this.nodeId} has no free worker for meeting ${meetingId}`);
    const router = await worker.worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS, appData: { meetingId, workerIndex: worker.index } });
    return new RouterSlot(router, worker.index, worker.webRtcServer);
  }

  async #createRoom(meetingId: string): Promise<MediaRoom> {
    const primary = await this.#createSlot(meetingId, new Set());
    const logger = this.logger.child({ meetingId });
    const room: MediaRoom = new MediaRoom(
      meetingId,
      primary,
      {
        onActiveSpeaker: (participantId) => this.links.publish(meetingId, { event: 'activeSpeaker', payload: { participantId } }),
        onIdle: () => {
          if (this.#rooms.get(meetingId) !== room) return;
          logger.info('meeting idle on this node; closing its routers');
          detach(logger, 'closing an idle meeting', this.closeMeeting({ meetingId }));
        },
        addRouter: (used) => this.#createSlot(meetingId, used),
      },
      this.options.routerIdleTimeoutMs,
      logger,
    );
    this.#rooms.set(meetingId, room);
    logger.info({ routerId: primary.router.id, workerIndex: primary.workerIndex }, 'router created');
    return room;
  }

  #room(meetingId: string): MediaRoom {
    const room = this.#rooms.get(meetingId);
    if (!room) throw new AppError('not_found', `meeting ${meetingId} has no router on this node`);
    return room;
  }

  #media({ meetingId, participantId }: Who) {
    return this.#room(meetingId).participant(participantId);
  }

  #onWorkerDied(index: number): void {
    for (const [meetingId, room] of this.#rooms) {
      if (room.slots.some((s) => s.workerIndex === index)) {
        this.#rooms.delete(meetingId);
        room.close();
        this.logger.warn({ meetingId, workerIndex: index }, 'meeting lost a router with its worker');
      }
    }
  }
}

/**
 * An object can close while a request about it is in flight (its producer left, say); that
 * is `not_found` for the client, not a server failure. mediasoup ≥ 3.21 says so with typed
 * errors, so no message needs matching.
 */
async function closedMeansGone(object: { closed: boolean; id: string }, op: () => Promise<void>): Promise<void> {
  try {
    await op();
  } catch (error) {
    if (object.closed || error instanceof NotFoundError || error instanceof WorkerClosedError) {
      throw new AppError('not_found', `${object.id} closed meanwhile`);
    }
    throw error;
  }
}

/** mediasoup rejects bad RTP or DTLS parameters with a TypeError: that is the client's fault. */
async function clientFault<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    if (error instanceof TypeError || (error instanceof Error && /invalid|missing|wrong/i.test(error.message))) {
      throw new AppError('bad_request', error.message);
    }
    throw error;
  }
}

export type MediaMethodName =
  | 'getRouterRtpCapabilities'
  | 'registerParticipant'
  | 'createWebRtcTransport'
  | 'connectTransport'
  | 'restartIce'
  | 'createPlainTransport'
  | 'connectPlainTransport'
  | 'closeTransport'
  | 'createPhoneLeg'
  | 'produce'
  | 'closeProducer'
  | 'pauseProducer'
  | 'resumeProducer'
  | 'consume'
  | 'resumeConsumer'
  | 'pauseConsumer'
  | 'setConsumerPreferredLayers'
  | 'closeParticipant'
  | 'closeMeeting'
  | 'openPipe'
  | 'pipeProducer';

export const MEDIA_METHODS: readonly MediaMethodName[] = [
  'getRouterRtpCapabilities',
  'registerParticipant',
  'createWebRtcTransport',
  'connectTransport',
  'restartIce',
  'createPlainTransport',
  'connectPlainTransport',
  'closeTransport',
  'createPhoneLeg',
  'produce',
  'closeProducer',
  'pauseProducer',
  'resumeProducer',
  'consume',
  'resumeConsumer',
  'pauseConsumer',
  'setConsumerPreferredLayers',
  'closeParticipant',
  'closeMeeting',
  'openPipe',
  'pipeProducer',
];
