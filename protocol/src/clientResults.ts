import { z } from 'zod';
import { chatMessage, iceServer, mediaSource, meetingSummary, participantInfo, presentation, producerInfo, reaction, videoCodec } from './records.ts';
import type { ClientMessageName } from './clientMessages.ts';

/** What the server answers to `createTransport`: the client mirrors the transport with it. */
export const transportOptions = z.object({
  id: z.string(),
  iceParameters: z.unknown(),
  iceCandidates: z.array(z.unknown()),
  dtlsParameters: z.unknown(),
});
export type TransportOptions = z.infer<typeof transportOptions>;

export const consumerOptions = z.object({
  id: z.string(),
  producerId: z.string(),
  participantId: z.string(),
  kind: z.enum(['audio', 'video']),
  source: mediaSource,
  rtpParameters: z.unknown(),
  type: z.string(),
  producerPaused: z.boolean(),
});
export type ConsumerOptions = z.infer<typeof consumerOptions>;

export const joinResult = z.object({
  self: participantInfo,
  meeting: meetingSummary,
  participants: z.array(participantInfo),
  producers: z.array(producerInfo),
  chat: z.array(chatMessage),
  activeSpeakerId: z.string().nullable(),
  /** The deck being presented, on its current page, so a late joiner lands there. */
  presentation: presentation.nullable(),
  /** True when this connection took over a seat held during the grace period. */
  resumed: z.boolean(),
  /** Use this token, not the join token, to reconnect: it lives as long as the seat. */
  sessionToken: z.string(),
  /** The codec to publish video with now (`videoCodecChanged` says when it changes); absent from servers before codec policy. */
  videoCodec: videoCodec.optional(),
  /** The transports the join asked for (`transports`), made on the participant's media node. */
  transports: z.object({ send: transportOptions.optional(), recv: transportOptions.optional() }).optional(),
  /** With `consume: true`: consumers on the receive transport of the producers listed in `producers`, already resumed. */
  consumers: z.array(consumerOptions).optional(),
  /** With TURN configured: the ICE servers with a credential signed now, to use from here on (the HTTP join's runs out). */
  iceServers: z.array(iceServer).optional(),
});
export type JoinResult = z.infer<typeof joinResult>;

const empty = z.object({});
const withPresentation = z.object({ presentation });

/** What each client message answers with (`data` of a successful `Ack`). */
export const clientResults = {
  getRouterRtpCapabilities: z.object({ rtpCapabilities: z.unknown() }),
  join: joinResult,
  createTransport: transportOptions,
  connectTransport: empty,
  restartIce: z.object({
    iceParameters: z.unknown(),
    /** With TURN configured: the ICE servers with a credential signed now, for the new gathering. */
    iceServers: z.array(iceServer).optional(),
  }),
  closeTransport: empty,
  produce: z.object({ producerId: z.string() }),
  closeProducer: empty,
  pauseProducer: empty,
  resumeProducer: empty,
  consume: consumerOptions,
  resumeConsumer: empty,
  pauseConsumer: empty,
  setConsumerPreferredLayers: empty,
  chat: z.object({ message: chatMessage }),
  moderate: empty,
  raiseHand: z.object({ participant: participantInfo }),
  react: z.object({ reaction, at: z.number() }),
  presentStart: withPresentation,
  presentPage: withPresentation,
  presentStop: empty,
  leave: empty,
} as const satisfies Record<ClientMessageName, z.ZodType>;

export type ClientResults = { [N in ClientMessageName]: z.infer<(typeof clientResults)[N]> };

export type Ack<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string; details?: unknown } };
