import type { types } from 'mediasoup';
import { AppError } from '../common/errors.ts';
import type { MediaSource } from '../protocol/src/index.ts';
import { onLiveObject, withClientParams } from './mediasoupErrors.ts';
import type { Empty, MediaNodeOptions, Who } from './nodeTypes.ts';
import type { RoomRegistry } from './RoomRegistry.ts';
import type { MediaAppData } from './roomTypes.ts';

/** A participant's producers: what it sends, and its mute (pause) and unmute. */
export class Publishing {
  private readonly rooms: RoomRegistry;
  private readonly options: MediaNodeOptions;
  constructor(rooms: RoomRegistry, options: MediaNodeOptions) {
    this.rooms = rooms;
    this.options = options;
  }

  async produce(
    params: Who & { transportId: string; kind: 'audio' | 'video'; rtpParameters: unknown; source: MediaSource; paused?: boolean },
  ): Promise<{ producerId: string }> {
    const room = this.rooms.room(params.meetingId);
    const media = room.participant(params.participantId);
    const transport = media.transport(params.transportId);
    if (transport.appData.direction === 'recv') throw new AppError('bad_request', 'produce needs a send transport');
    const producer = await media.withinLimit('producers', this.options.limits.producers, async () => {
      const created = await withClientParams(() =>
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

  /** Idempotent: closing what is already gone succeeds. */
  async close({ meetingId, participantId, producerId }: Who & { producerId: string }): Promise<Empty> {
    this.rooms.findMedia({ meetingId, participantId })?.producers.get(producerId)?.close();
    return {};
  }

  async pause({ meetingId, participantId, producerId }: Who & { producerId: string }): Promise<Empty> {
    const producer = this.rooms.media({ meetingId, participantId }).producer(producerId);
    await onLiveObject(producer, () => producer.pause());
    return {};
  }

  async resume({ meetingId, participantId, producerId }: Who & { producerId: string }): Promise<Empty> {
    const producer = this.rooms.media({ meetingId, participantId }).producer(producerId);
    await onLiveObject(producer, () => producer.resume());
    return {};
  }
}
