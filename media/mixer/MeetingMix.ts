import type { types } from 'mediasoup';
import { detach } from '../../common/detach.ts';
import type { MediaRoom } from '../MediaRoom.ts';
import type { RoomProducer } from '../roomTypes.ts';
import type { AudioMixer } from './AudioMixer.ts';
import type { OutputCodec } from './protocol.ts';

/**
 * A meeting's audio mix on this node. Every audio producer the room can route is consumed on
 * one PlainTransport that sends to the mixer thread; each phone leg is an output, mix-minus.
 */
export class MeetingMix {
  #transport?: types.PlainTransport;
  readonly #consumed = new Set<string>();

  private readonly room: MediaRoom;
  private readonly mixer: AudioMixer;
  private readonly listenIp: string;
  constructor(
    room: MediaRoom,
    mixer: AudioMixer,
    listenIp: string,
  ) {
    this.room = room;
    this.mixer = mixer;
    this.listenIp = listenIp;
  }

  get outputs(): number {
    return this.#outputs.size;
  }

  readonly #outputs = new Set<string>();

  async start(): Promise<void> {
    const transport = await this.room.primary.router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: this.listenIp },
      rtcpMux: true,
      comedia: false,
    });
    await transport.connect({ ip: this.listenIp, port: await this.mixer.port() });
    this.#transport = transport;
    for (const entry of this.room.producers.values()) await this.addProducer(entry);
  }

  async addProducer(entry: RoomProducer): Promise<void> {
    const transport = this.#transport;
    if (!transport || entry.producer.kind !== 'audio' || entry.producer.closed || this.#consumed.has(entry.producer.id)) return;
    this.#consumed.add(entry.producer.id);
    await this.room.ensureInSlot(entry, this.room.primary);
    const consumer = await transport.consume({
      producerId: entry.producer.id,
      rtpCapabilities: this.room.primary.router.rtpCapabilities,
      paused: false,
    });
    const ssrc = consumer.rtpParameters.encodings?.[0]?.ssrc;
    if (ssrc === undefined) return;
    const mixId = this.room.meetingId;
    await this.mixer.send({ type: 'addInput', mixId, ssrc, participantId: entry.participantId });
    consumer.observer.once('close', () => {
      this.#consumed.delete(entry.producer.id);
      detach(this.room.logger, 'removing a mixer input', this.mixer.send({ type: 'removeInput', mixId, ssrc }));
    });
  }

  async addOutput(output: { participantId: string; codec: OutputCodec; payloadType: number; ssrc: number; dest: { ip: string; port: number } }): Promise<void> {
    this.#outputs.add(output.participantId);
    await this.mixer.send({
      type: 'addOutput',
      mixId: this.room.meetingId,
      outputId: output.participantId,
      excludeParticipantId: output.participantId,
      codec: output.codec,
      payloadType: output.payloadType,
      ssrc: output.ssrc,
      dest: output.dest,
    });
  }

  /** Whether the participant had an output here. */
  removeOutput(participantId: string): boolean {
    if (!this.#outputs.delete(participantId)) return false;
    detach(this.room.logger, 'removing a mixer output', this.mixer.send({ type: 'removeOutput', mixId: this.room.meetingId, outputId: participantId }));
    return true;
  }

  close(): void {
    this.#transport?.close();
    detach(this.room.logger, 'removing a mix', this.mixer.send({ type: 'removeMix', mixId: this.room.meetingId }));
  }
}
