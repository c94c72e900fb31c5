import type { MediaResult } from './contract.ts';
import type { Logger } from '../common/logger.ts';
import { AudioMixer } from './mixer/AudioMixer.ts';
import { MeetingMix } from './mixer/MeetingMix.ts';
import type { MixerEvent, OutputCodec } from './mixer/protocol.ts';
import type { MediaNodeOptions, Who } from './nodeTypes.ts';
import type { ParticipantTransports } from './ParticipantTransports.ts';
import type { RoomRegistry } from './RoomRegistry.ts';

export type MixerStats = Extract<MixerEvent, { type: 'stats' }>;

/** Telephone legs: plain RTP in from the SIP gateway, a mix-minus out from this node's audio mixer. */
export class PhoneLegs {
  #mixer?: AudioMixer;

  private readonly rooms: RoomRegistry;
  private readonly transports: ParticipantTransports;
  private readonly options: MediaNodeOptions;
  private readonly logger: Logger;
  constructor(rooms: RoomRegistry, transports: ParticipantTransports, options: MediaNodeOptions, logger: Logger) {
    this.rooms = rooms;
    this.transports = transports;
    this.options = options;
    this.logger = logger;
  }

  /**
   * A plain transport where the gateway sends the caller's voice (as Opus, an ordinary
   * producer once produced), and a mix-minus of everyone else sent to `sendTo` in the caller's
   * codec. The participant must be registered first. With `peer` (the gateway's RTP socket)
   * the transport is connected to it and takes RTP from nowhere else; without it, comedia
   * latches the first sender, which a stranger could be. `mixFrom` is where the mix-minus
   * comes from, so that the gateway can take it from nowhere else.
   */
  async create({
    meetingId,
    participantId,
    codec,
    sendTo,
    peer,
  }: Who & { codec: OutputCodec; sendTo: { ip: string; port: number }; peer?: { ip: string; port: number } }): Promise<MediaResult<'createPhoneLeg'>> {
    const room = this.rooms.room(meetingId);
    const media = room.participant(participantId);
    const { id: transportId, ip, port } = await this.transports.createPlain({ meetingId, participantId, comedia: peer === undefined });
    if (peer) await this.transports.connectPlain({ meetingId, participantId, transportId, ip: peer.ip, port: peer.port });
    // The room holds its mix as a RoomMix; only a MeetingMix (the one kind there is) takes outputs.
    let mix = room.mix instanceof MeetingMix ? room.mix : undefined;
    if (!mix) {
      mix = new MeetingMix(room, this.#audioMixer(), this.options.listenIp);
      room.mix = mix;
      await mix.start();
    }
    const payloadType = codec === 'PCMU' ? 0 : codec === 'PCMA' ? 8 : 111;
    await mix.addOutput({ participantId: media.participantId, codec, payloadType, ssrc: (Math.random() * 0xffffffff) >>> 0, dest: sendTo });
    return { transportId, ip, port, payloadType, mixFrom: { port: await this.#audioMixer().port() } };
  }

  /** The mixer thread's counters (ticks, late ticks...); null before the first phone leg. */
  async mixerStats(): Promise<MixerStats | null> {
    return (await this.#mixer?.stats()) ?? null;
  }

  async close(): Promise<void> {
    await this.#mixer?.close();
  }

  /** One mixer thread per node, started with the first phone leg. */
  #audioMixer(): AudioMixer {
    this.#mixer ??= new AudioMixer(this.options.listenIp, this.logger.child({ component: 'mixer' }));
    return this.#mixer;
  }
}
