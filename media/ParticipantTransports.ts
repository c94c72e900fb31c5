import type { types } from 'mediasoup';
import { AppError } from '../common/errors.ts';
import type { TransportOptions } from '../protocol/src/index.ts';
import { onLiveObject, withClientParams } from './mediasoupErrors.ts';
import { type Empty, listenInfo, type MediaNodeOptions, reachableAt, type Who } from './nodeTypes.ts';
import type { ParticipantMedia } from './ParticipantMedia.ts';
import type { RoomRegistry } from './RoomRegistry.ts';
import type { MediaAppData } from './roomTypes.ts';

/** A participant's transports: WebRTC for clients, plain RTP for gateways, the mixer and bots. */
export class ParticipantTransports {
  private readonly rooms: RoomRegistry;
  private readonly options: MediaNodeOptions;
  constructor(rooms: RoomRegistry, options: MediaNodeOptions) {
    this.rooms = rooms;
    this.options = options;
  }

  async createWebRtc({ meetingId, participantId, direction }: Who & { direction: 'send' | 'recv' }): Promise<TransportOptions> {
    const media = this.rooms.media({ meetingId, participantId });
    const { slot } = media;
    const webRtcServer = slot.webRtcServer;
    if (!webRtcServer) throw new AppError('unavailable', 'this media node has no WebRtcServer');
    const transport = await this.#create(media, () =>
      slot.router.createWebRtcTransport<MediaAppData>({
        webRtcServer,
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        initialAvailableOutgoingBitrate: 1_000_000,
        appData: { meetingId, participantId, direction },
      }),
    );
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  async connectWebRtc({ meetingId, participantId, transportId, dtlsParameters }: Who & { transportId: string; dtlsParameters: unknown }): Promise<Empty> {
    const transport = this.rooms.media({ meetingId, participantId }).transport(transportId);
    await withClientParams(() => transport.connect({ dtlsParameters: dtlsParameters as types.DtlsParameters }));
    return {};
  }

  async restartIce({ meetingId, participantId, transportId }: Who & { transportId: string }): Promise<{ iceParameters: unknown }> {
    const transport = this.rooms.media({ meetingId, participantId }).transport(transportId);
    if (transport.type !== 'webrtc') throw new AppError('bad_request', 'only WebRTC transports restart ICE');
    return { iceParameters: await onLiveObject(transport, () => (transport as unknown as types.WebRtcTransport).restartIce()) };
  }

  /** With `comedia` the transport learns the peer's address from its first packet. */
  async createPlain({ meetingId, participantId, comedia }: Who & { comedia?: boolean }): Promise<{ id: string; ip: string; port: number }> {
    const media = this.rooms.media({ meetingId, participantId });
    const transport = await this.#create(media, () =>
      media.slot.router.createPlainTransport<MediaAppData>({
        listenInfo: listenInfo(this.options),
        rtcpMux: true,
        comedia: comedia ?? false,
        appData: { meetingId, participantId, direction: 'plain' },
      }),
    );
    return { id: transport.id, ...reachableAt(this.options, transport.tuple) };
  }

  async connectPlain({ meetingId, participantId, transportId, ip, port }: Who & { transportId: string; ip: string; port: number }): Promise<Empty> {
    const transport = this.rooms.media({ meetingId, participantId }).transport(transportId);
    if (transport.type !== 'plain') throw new AppError('bad_request', 'not a plain transport');
    await withClientParams(() => (transport as unknown as types.PlainTransport).connect({ ip, port }));
    return {};
  }

  /**
   * Closes a transport with its producers and consumers, so a client that rebuilds its media
   * frees what it abandoned. Idempotent; answers the producers that went with it.
   */
  async close({ meetingId, participantId, transportId }: Who & { transportId: string }): Promise<{ producerIds: string[] }> {
    const media = this.rooms.findMedia({ meetingId, participantId });
    const transport = media?.transports.get(transportId);
    if (!media || !transport) return { producerIds: [] };
    const producerIds = [...media.producers.values()].filter((p) => p.appData.transportId === transportId).map((p) => p.id);
    transport.close();
    return { producerIds };
  }

  async #create<T extends types.Transport<MediaAppData>>(media: ParticipantMedia, create: () => Promise<T>): Promise<T> {
    return media.withinLimit('transports', this.options.limits.transports, async () => {
      const created = await create();
      media.transports.set(created.id, created);
      created.observer.once('close', () => media.transports.delete(created.id));
      return created;
    });
  }
}
