import { randomBytes } from 'node:crypto';
import type { EventBus } from '../common/bus/EventBus.ts';
import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { MeetingEvent } from '../protocol/src/index.ts';
import { AUDIO_LEVEL_URI } from '../audio/rtp.ts';
import type { MediaClient } from '../media/contract.ts';
import { type MeetingApi, meetingChannel } from '../meeting/contract.ts';
import { type Call, maskNumber } from './Call.ts';
import { AUDIO_LEVEL_EXT_ID, OPUS_PT } from './RtpSession.ts';

/** What a call needs of the meeting and media tiers. */
export type GatewayServices = Pick<MeetingApi, 'repo' | 'meetings' | 'seats' | 'publications'> & { media: MediaClient };

/**
 * A call's side in the meeting: its seat, its phone leg on the seat's media node (the caller's
 * voice as a producer, the mix-minus back), and the meeting events addressed to it.
 */
export class MeetingLeg {
  private readonly services: GatewayServices;
  private readonly bus: EventBus;
  private readonly options: { nodeId: string; listenIp: string };
  private readonly logger: Logger;

  constructor(services: GatewayServices, bus: EventBus, options: { nodeId: string; listenIp: string }, logger: Logger) {
    this.services = services;
    this.bus = bus;
    this.options = options;
    this.logger = logger;
  }

  async join(call: Call, meetingId: string, onEvent: (call: Call, event: MeetingEvent) => void): Promise<void> {
    const { seats, media } = this.services;
    const participantId = `p_sip_${randomBytes(8).toString('hex')}`;
    // Marked at once, so that digits keyed meanwhile cannot start a second join.
    const before = call.state;
    call.state = 'in-meeting';
    call.meetingId = meetingId;
    let seated = false;
    try {
      const nodeId = await seats.mediaNodeFor(meetingId);
      const { rtpCapabilities } = await media.call(nodeId, 'getRouterRtpCapabilities', { meetingId });
      await seats.join(
        {
          sub: participantId,
          mid: meetingId,
          name: maskNumber(call.caller),
          role: 'guest',
          grants: { publishAudio: true, publishVideo: false, publishScreen: false, moderate: false, present: false },
          typ: 'join',
        },
        `sip:${call.callId}`,
        { rtpCapabilities, kind: 'phone' },
        this.options.nodeId,
      );
      seated = true;
      await this.#connect(call, meetingId, participantId);
    } catch (error) {
      // A seat taken for a call that never connected would otherwise outlive it.
      if (seated) await seats.leave(meetingId, participantId, 'left').catch(() => undefined);
      call.state = before;
      call.meetingId = undefined;
      throw error;
    }
    call.participantId = participantId;
    call.unsubscribe = await this.bus.subscribe(meetingChannel(meetingId), (message) => onEvent(call, message as MeetingEvent));
    this.logger.info({ callId: call.callId, meetingId, participantId }, 'caller joined the meeting');
  }

  /** Gives back the seat of a call that was in the meeting. */
  async leave(call: Call): Promise<void> {
    await call.unsubscribe?.().catch(() => undefined);
    if (call.meetingId && call.participantId) {
      await this.services.seats.leave(call.meetingId, call.participantId, 'left').catch((error: unknown) => {
        this.logger.warn({ callId: call.callId, err: error }, "could not release the caller's seat");
      });
    }
  }

  /** The caller's media: a phone leg on the seat's media node, and its voice as a producer. */
  async #connect(call: Call, meetingId: string, participantId: string): Promise<void> {
    const { media, repo, publications } = this.services;
    const seat = await repo.getParticipant(meetingId, participantId);
    if (!seat?.mediaNodeId) throw new AppError('unavailable', 'no media node for the call');
    const ports = call.rtp.ports;
    const leg = await media.call(seat.mediaNodeId, 'createPhoneLeg', {
      meetingId,
      participantId,
      codec: call.rtp.negotiated.codec,
      sendTo: { ip: this.options.listenIp, port: ports.mixPort },
      // The voice leaves from the phone socket: the leg takes RTP from there and nowhere else.
      peer: { ip: this.options.listenIp, port: ports.phonePort },
    });
    call.rtp.connectMedia({ ip: leg.ip, port: leg.port }, leg.mixFrom);
    await publications.publish(seat, {
      transportId: leg.transportId,
      kind: 'audio',
      source: 'mic',
      rtpParameters: {
        mid: '0',
        codecs: [{ mimeType: 'audio/opus', payloadType: OPUS_PT, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 }, rtcpFeedback: [] }],
        headerExtensions: [{ uri: AUDIO_LEVEL_URI, id: AUDIO_LEVEL_EXT_ID, encrypt: false, parameters: {} }],
        encodings: [{ ssrc: call.rtp.ssrc }],
        rtcp: { cname: participantId, reducedSize: true },
      },
    });
  }
}
