import type { types } from 'mediasoup';
import { AppError } from '../common/errors.ts';
import type { ConsumerOptions } from '../protocol/src/index.ts';
import { onLiveObject, withClientParams } from './mediasoupErrors.ts';
import type { NodePiping } from './NodePiping.ts';
import type { Empty, MediaNodeLinks, MediaNodeOptions, Who } from './nodeTypes.ts';
import type { ParticipantMedia } from './ParticipantMedia.ts';
import type { RoomRegistry } from './RoomRegistry.ts';
import type { MediaAppData, RoomProducer } from './roomTypes.ts';

type NewConsumer = {
  meetingId: string;
  media: ParticipantMedia;
  entry: RoomProducer;
  transport: types.Transport<MediaAppData>;
  rtpCapabilities: types.RtpCapabilities;
  paused: boolean;
};

/** A participant's consumers of the others' producers, here or piped from another node. */
export class Consuming {
  private readonly rooms: RoomRegistry;
  private readonly piping: NodePiping;
  private readonly links: MediaNodeLinks;
  private readonly options: MediaNodeOptions;
  constructor(rooms: RoomRegistry, piping: NodePiping, links: MediaNodeLinks, options: MediaNodeOptions) {
    this.rooms = rooms;
    this.piping = piping;
    this.links = links;
    this.options = options;
  }

  /**
   * Consumers start paused: the client resumes once its consumer exists, so no keyframe is
   * lost. A producer on another node is piped here first (`producerNodeId` says where). Asked
   * again for the same producer on the same transport, it answers the consumer it made (see
   * `ParticipantMedia.consumeOnce`).
   */
  async consume({
    meetingId,
    participantId,
    producerId,
    producerNodeId,
    transportId,
    paused,
  }: Who & { producerId: string; producerNodeId?: string; transportId?: string; paused?: boolean }): Promise<ConsumerOptions> {
    const room = this.rooms.room(meetingId);
    const media = room.participant(participantId);
    const rtpCapabilities = media.rtpCapabilities;
    if (!rtpCapabilities) throw new AppError('bad_request', 'join with rtpCapabilities before consuming');
    let entry = room.producers.get(producerId);
    if (!entry && producerNodeId && producerNodeId !== this.options.nodeId) entry = await this.piping.import(room, producerNodeId, producerId);
    if (!entry) throw new AppError('not_found', `producer ${producerId} does not exist`);
    if (entry.participantId === participantId) throw new AppError('bad_request', 'cannot consume your own producer');
    await room.ensureInSlot(entry, media.slot);
    if (!media.slot.router.canConsume({ producerId, rtpCapabilities })) {
      throw new AppError('bad_request', `your device cannot receive producer ${producerId}`);
    }
    const transport = media.receivingTransport(transportId);
    const request: NewConsumer = { meetingId, media, entry, transport, rtpCapabilities, paused: paused ?? true };
    const consumer = await media.consumeOnce(producerId, transport, () =>
      media.withinLimit('consumers', this.options.limits.consumers, () => this.#create(request)),
    );
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

  async resume({ meetingId, participantId, consumerId }: Who & { consumerId: string }): Promise<Empty> {
    const consumer = this.rooms.media({ meetingId, participantId }).consumer(consumerId);
    await onLiveObject(consumer, () => consumer.resume());
    return {};
  }

  async pause({ meetingId, participantId, consumerId }: Who & { consumerId: string }): Promise<Empty> {
    const consumer = this.rooms.media({ meetingId, participantId }).consumer(consumerId);
    await onLiveObject(consumer, () => consumer.pause());
    return {};
  }

  async setPreferredLayers(params: Who & { consumerId: string; spatialLayer: number; temporalLayer?: number }): Promise<Empty> {
    const consumer = this.rooms.media(params).consumer(params.consumerId);
    await onLiveObject(consumer, () => consumer.setPreferredLayers({ spatialLayer: params.spatialLayer, temporalLayer: params.temporalLayer }));
    return {};
  }

  async #create({ meetingId, media, entry, transport, rtpCapabilities, paused }: NewConsumer): Promise<types.Consumer<MediaAppData>> {
    const { participantId } = media;
    const producerId = entry.producer.id;
    const created = await withClientParams(() =>
      transport.consume<MediaAppData>({
        producerId,
        rtpCapabilities,
        paused,
        preferredLayers: entry.producer.type === 'simulcast' ? { spatialLayer: 2, temporalLayer: 2 } : undefined,
        appData: { meetingId, participantId, source: entry.source, transportId: transport.id },
      }),
    );
    media.consumers.set(created.id, created);
    media.slot.consumers.add(created.id);
    created.observer.once('close', () => {
      media.consumers.delete(created.id);
      media.slot.consumers.delete(created.id);
    });
    // Once per consumer, not per consume: a repeated consume answers this same consumer.
    created.on('producerclose', () => {
      this.links.publish(meetingId, { event: 'consumerClosed', payload: { consumerId: created.id, producerId }, to: participantId });
    });
    return created;
  }
}
