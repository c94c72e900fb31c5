import type { types } from 'mediasoup';
import { AppError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { ConsumerOptions, MediaSource, MeetingEvent, TransportOptions } from '../common/protocol.js';
import { ROUTER_MEDIA_CODECS } from './codecs.js';
import { type MediaAppData, MediaRoom } from './MediaRoom.js';
import type { WorkerPool } from './WorkerPool.js';

export interface MediaNodeOptions {
  nodeId: string;
  routerIdleTimeoutMs: number;
  consumersPerRouter: number;
}

type Who = { meetingId: string; participantId: string };

/**
 * The media tier's whole API. Every method takes and returns plain JSON so that it can be
 * called in-process (embedded mode) or across processes without change. Identity (`Who`)
 * comes from the caller's verified token, never from client input: a participant can touch
 * only its own transports, producers and consumers.
 */
export class MediaNode {
  readonly #rooms = new Map<string, MediaRoom>();
  readonly #roomCreation = new Map<string, Promise<MediaRoom>>();

  constructor(
    private readonly pool: WorkerPool,
    private readonly publish: (meetingId: string, event: MeetingEvent) => void,
    private readonly options: MediaNodeOptions,
    private readonly logger: Logger,
  ) {
    pool.on('workerDied', ({ index }) => this.#onWorkerDied(index));
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  get roomCount(): number {
    return this.#rooms.size;
  }

  hasRoom(meetingId: string): boolean {
    return this.#rooms.has(meetingId);
  }

  async getRouterRtpCapabilities({ meetingId }: { meetingId: string }): Promise<{ rtpCapabilities: types.RtpCapabilities }> {
    const room = await this.#ensureRoom(meetingId);
    return { rtpCapabilities: room.router.rtpCapabilities };
  }

  async registerParticipant({ meetingId, participantId, rtpCapabilities }: Who & { rtpCapabilities: unknown }): Promise<{ activeSpeakerId: string | null }> {
    const room = await this.#ensureRoom(meetingId);
    room.participant(participantId, true).rtpCapabilities = rtpCapabilities as types.RtpCapabilities;
    return { activeSpeakerId: room.activeSpeakerId };
  }

  async createWebRtcTransport({ meetingId, participantId, direction }: Who & { direction: 'send' | 'recv' }): Promise<TransportOptions> {
    const room = await this.#ensureRoom(meetingId);
    const media = room.participant(participantId, true);
    const appData: MediaAppData = { meetingId, participantId, direction };
    if (!room.webRtcServer) throw new AppError('unavailable', 'this media node has no WebRtcServer');
    const transport = await room.router.createWebRtcTransport<MediaAppData>({
      webRtcServer: room.webRtcServer,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: 1_000_000,
      appData,
    });
    media.transports.set(transport.id, transport);
    transport.observer.once('close', () => media.transports.delete(transport.id));
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  async connectTransport({ meetingId, participantId, transportId, dtlsParameters }: Who & { transportId: string; dtlsParameters: unknown }): Promise<Record<string, never>> {
    const transport = this.#media({ meetingId, participantId }).transport(transportId);
    await this.#mediasoup(() => transport.connect({ dtlsParameters: dtlsParameters as types.DtlsParameters }));
    return {};
  }

  async restartIce({ meetingId, participantId, transportId }: Who & { transportId: string }): Promise<{ iceParameters: unknown }> {
    const transport = this.#media({ meetingId, participantId }).transport(transportId);
    return { iceParameters: await transport.restartIce() };
  }

  async produce(
    params: Who & { transportId: string; kind: 'audio' | 'video'; rtpParameters: unknown; source: MediaSource; paused?: boolean },
  ): Promise<{ producerId: string }> {
    const room = this.#room(params.meetingId);
    const media = room.participant(params.participantId);
    const transport = media.transport(params.transportId);
    if (transport.appData.direction !== 'send') throw new AppError('bad_request', 'produce needs a send transport');
    const producer = await this.#mediasoup(() =>
      transport.produce<MediaAppData>({
        kind: params.kind,
        rtpParameters: params.rtpParameters as types.RtpParameters,
        paused: params.paused ?? false,
        appData: { meetingId: params.meetingId, participantId: params.participantId, source: params.source },
      }),
    );
    media.producers.set(producer.id, producer);
    producer.observer.once('close', () => media.producers.delete(producer.id));
    if (producer.kind === 'audio') await room.addAudioToSpeakerDetection(producer);
    return { producerId: producer.id };
  }

  async closeProducer({ meetingId, participantId, producerId }: Who & { producerId: string }): Promise<Record<string, never>> {
    this.#media({ meetingId, participantId }).producer(producerId).close();
    return {};
  }

  async pauseProducer({ meetingId, participantId, producerId }: Who & { producerId: string }): Promise<Record<string, never>> {
    await this.#media({ meetingId, participantId }).producer(producerId).pause();
    return {};
  }

  async resumeProducer({ meetingId, participantId, producerId }: Who & { producerId: string }): Promise<Record<string, never>> {
    await this.#media({ meetingId, participantId }).producer(producerId).resume();
    return {};
  }

  /** Consumers start paused: the client resumes once its consumer exists, so no keyframe is lost. */
  async consume({ meetingId, participantId, producerId }: Who & { producerId: string }): Promise<ConsumerOptions> {
    const room = this.#room(meetingId);
    const media = room.participant(participantId);
    if (!media.rtpCapabilities) throw new AppError('bad_request', 'join with rtpCapabilities before consuming');
    const producer = this.#findProducer(room, producerId);
    if (producer.appData.participantId === participantId) throw new AppError('bad_request', 'cannot consume your own producer');
    if (!room.router.canConsume({ producerId, rtpCapabilities: media.rtpCapabilities })) {
      throw new AppError('bad_request', `your device cannot receive producer ${producerId}`);
    }
    const transport = media.recvTransport();
    const consumer = await transport.consume<MediaAppData>({
      producerId,
      rtpCapabilities: media.rtpCapabilities,
      paused: true,
      preferredLayers: producer.type === 'simulcast' ? { spatialLayer: 2, temporalLayer: 2 } : undefined,
      appData: { meetingId, participantId, source: producer.appData.source },
    });
    media.consumers.set(consumer.id, consumer);
    consumer.observer.once('close', () => media.consumers.delete(consumer.id));
    consumer.on('producerclose', () => {
      this.publish(meetingId, { event: 'consumerClosed', payload: { consumerId: consumer.id, producerId }, to: participantId });
    });
    consumer.on('transportclose', () => undefined);
    return {
      id: consumer.id,
      producerId,
      participantId: producer.appData.participantId,
      kind: consumer.kind,
      source: producer.appData.source ?? (consumer.kind === 'audio' ? 'mic' : 'camera'),
      rtpParameters: consumer.rtpParameters,
      type: consumer.type,
      producerPaused: consumer.producerPaused,
    };
  }

  async resumeConsumer({ meetingId, participantId, consumerId }: Who & { consumerId: string }): Promise<Record<string, never>> {
    await this.#media({ meetingId, participantId }).consumer(consumerId).resume();
    return {};
  }

  async pauseConsumer({ meetingId, participantId, consumerId }: Who & { consumerId: string }): Promise<Record<string, never>> {
    await this.#media({ meetingId, participantId }).consumer(consumerId).pause();
    return {};
  }

  async setConsumerPreferredLayers(
    params: Who & { consumerId: string; spatialLayer: number; temporalLayer?: number },
  ): Promise<Record<string, never>> {
    const consumer = this.#media(params).consumer(params.consumerId);
    await consumer.setPreferredLayers({ spatialLayer: params.spatialLayer, temporalLayer: params.temporalLayer });
    return {};
  }

  /** Idempotent: closing what is already gone succeeds, so callers may retry freely. */
  async closeParticipant({ meetingId, participantId }: Who): Promise<Record<string, never>> {
    this.#rooms.get(meetingId)?.removeParticipant(participantId);
    return {};
  }

  async closeMeeting({ meetingId }: { meetingId: string }): Promise<Record<string, never>> {
    const room = this.#rooms.get(meetingId);
    if (room) {
      this.#rooms.delete(meetingId);
      room.close();
    }
    return {};
  }

  async close(): Promise<void> {
    for (const meetingId of [...this.#rooms.keys()]) await this.closeMeeting({ meetingId });
  }

  async #ensureRoom(meetingId: string): Promise<MediaRoom> {
    const existing = this.#rooms.get(meetingId);
    if (existing && !existing.router.closed) return existing;
    // Concurrent joins to a new meeting must share one router, not race to make two.
    let pending = this.#roomCreation.get(meetingId);
    if (!pending) {
      pending = this.#createRoom(meetingId).finally(() => this.#roomCreation.delete(meetingId));
      this.#roomCreation.set(meetingId, pending);
    }
    return pending;
  }

  async #createRoom(meetingId: string): Promise<MediaRoom> {
    const slot = this.pool.leastLoaded();
    if (!slot) throw new AppError('unavailable', 'no live mediasoup worker on this node');
    const router = await slot.worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS, appData: { meetingId, workerIndex: slot.index } });
    const logger = this.logger.child({ meetingId, workerIndex: slot.index });
    const room: MediaRoom = new MediaRoom(
      meetingId,
      router,
      slot.webRtcServer,
      {
        onActiveSpeaker: (participantId) => this.publish(meetingId, { event: 'activeSpeaker', payload: { participantId } }),
        onIdle: () => {
          if (this.#rooms.get(meetingId) !== room) return;
          logger.info('router idle; closing it');
          void this.closeMeeting({ meetingId });
        },
      },
      this.options.routerIdleTimeoutMs,
      logger,
    );
    this.#rooms.set(meetingId, room);
    logger.info({ routerId: router.id }, 'router created');
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

  #findProducer(room: MediaRoom, producerId: string): types.Producer<MediaAppData> {
    for (const media of room.participants.values()) {
      const producer = media.producers.get(producerId);
      if (producer) return producer;
    }
    throw new AppError('not_found', `producer ${producerId} does not exist`);
  }

  /** mediasoup rejects bad RTP or DTLS parameters with a TypeError: that is the client's fault. */
  async #mediasoup<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (error) {
      if (error instanceof TypeError || (error instanceof Error && /invalid|missing|wrong/i.test(error.message))) {
        throw new AppError('bad_request', error.message);
      }
      throw error;
    }
  }

  #onWorkerDied(index: number): void {
    for (const [meetingId, room] of this.#rooms) {
      if ((room.router.appData as { workerIndex?: number }).workerIndex === index || room.router.closed) {
        this.#rooms.delete(meetingId);
        this.logger.warn({ meetingId }, 'router lost with its worker');
      }
    }
  }
}

export type MediaMethodName = Exclude<keyof MediaNode, 'nodeId' | 'roomCount' | 'hasRoom' | 'close'>;
