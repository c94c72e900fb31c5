import type { RunningServer } from '../../test/support/server.ts';
import type { SendStream } from '../rtp-bots.ts';
import type { BenchMedia } from './BenchMedia.ts';
import type { BenchSeats } from './BenchSeats.ts';
import type { NodeSpec } from './config.ts';

/** Building a case: speakers and listeners on the media processes, through their internal API. */
export interface Consumer {
  ssrc: number;
  /** Index into the case's producer list. */
  producer: number;
  node: number;
}

/** One media process of a case: its meeting, speakers and listeners. */
export interface MediaProcess {
  spec: NodeSpec;
  server: RunningServer;
  api: BenchMedia;
  meetingId: string;
  rtpCapabilities: Record<string, unknown>;
  producerIds: string[];
  /** Indices of this process's producers in the case's producer list. */
  producerIndex: number[];
  receivePorts: number[];
  listeners: number;
  consumers: number;
  /** Where the bench records its meeting and seats, as the meeting tier would. */
  seats: BenchSeats;
}

export const OPUS = { mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] };

export async function addSpeakers(media: MediaProcess, count: number, ssrcBase: number): Promise<SendStream[]> {
  const streams: SendStream[] = [];
  for (let i = 0; i < count; i++) {
    const participantId = `speaker-${i}`;
    await media.seats.seat(media.meetingId, participantId);
    await media.api.call('registerParticipant', { meetingId: media.meetingId, participantId, rtpCapabilities: media.rtpCapabilities });
    const transport = await media.api.call('createPlainTransport', { meetingId: media.meetingId, participantId, comedia: true });
    // RTP goes to 127.0.0.1 only, whatever a media process might announce.
    if (transport.ip !== '127.0.0.1') throw new Error(`media process announced ${transport.ip}, not 127.0.0.1`);
    const ssrc = ssrcBase + i;
    const { producerId } = await media.api.call('produce', {
      meetingId: media.meetingId,
      participantId,
      transportId: transport.id,
      kind: 'audio',
      source: 'mic',
      rtpParameters: { codecs: [OPUS], encodings: [{ ssrc }] },
    });
    media.producerIds.push(producerId);
    streams.push({ ip: transport.ip, port: transport.port, ssrc, payloadType: OPUS.payloadType });
  }
  return streams;
}

/** A listener: one plain transport to a receive socket, consuming every speaker of its process. */
export async function addListener(media: MediaProcess, node: number, consumers: Consumer[]): Promise<void> {
  const n = media.listeners++;
  const participantId = `listener-${n}`;
  const { meetingId, api } = media;
  await media.seats.seat(meetingId, participantId);
  await api.call('registerParticipant', { meetingId, participantId, rtpCapabilities: media.rtpCapabilities });
  const transport = await api.call('createPlainTransport', { meetingId, participantId, comedia: false });
  await api.call('connectPlainTransport', { meetingId, participantId, transportId: transport.id, ip: '127.0.0.1', port: media.receivePorts[n % media.receivePorts.length]! });
  for (const [i, producerId] of media.producerIds.entries()) {
    const consumer = await api.call('consume', {
      meetingId,
      participantId,
      producerId,
      transportId: transport.id,
      paused: false,
    });
    // The protocol leaves a consumer's RTP parameters opaque (mediasoup's own type); the SSRC is all the bench reads.
    const ssrc = (consumer.rtpParameters as { encodings?: Array<{ ssrc?: number }> }).encodings?.[0]?.ssrc;
    if (ssrc === undefined) throw new Error('consumer without an SSRC');
    consumers.push({ ssrc, producer: media.producerIndex[i]!, node });
    media.consumers++;
  }
}

export async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
