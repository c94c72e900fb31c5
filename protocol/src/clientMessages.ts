import { z } from 'zod';
import { id, mediaSource, mediasoupObject, reaction } from './records.ts';
import { messageText } from './text.ts';

/**
 * Client → server messages, each acknowledged with an `Ack`. Payloads are not strict: a field
 * this version does not know (sent by a client of a newer minor version) is dropped, while a
 * known field of the wrong type is still refused. `.describe()` carries the notes of the docs
 * table (docs/architecture.md is generated from these schemas: `npm run docs:protocol`).
 */
export const clientMessages = {
  getRouterRtpCapabilities: z.object({}).describe('places the meeting on a media node if needed'),
  join: z
    .object({
      rtpCapabilities: mediasoupObject,
      kind: z.enum(['browser', 'bot']).optional(),
      receiveVideo: z.boolean().optional(),
      transports: z.array(z.enum(['send', 'recv'])).max(2).optional(),
      consume: z.boolean().optional(),
    })
    .describe(
      '`rtpCapabilities` that can decode none of the meeting\'s video codecs (any offered one under `auto`, else the one set) get `codec_unsupported`, unless `receiveVideo: false`: then the participant joins audio-only, does not count in the `auto` choice, and cannot consume video. `transports` asks for those transports in the answer (as `createTransport` answers them), so no `createTransport` round trip follows; `consume: true` (with `recv`) also makes consumers of every producer already in the meeting on the receive transport, answered in `consumers`. Those start resumed: media flows once the client connects the receive transport, which it does when it consumes them, so no `resumeConsumer` follows. Best effort: what the server could not make is left out, and the client makes it the usual way',
    ),
  createTransport: z
    .object({ direction: z.enum(['send', 'recv']) })
    .describe('at most `MEDIA_MAX_TRANSPORTS_PER_PARTICIPANT` (4) open, then `limit_reached`'),
  connectTransport: z.object({ transportId: id, dtlsParameters: mediasoupObject }),
  restartIce: z.object({ transportId: id }),
  closeTransport: z
    .object({ transportId: id })
    .describe(
      'closes one of your transports with its producers (announced as `producerClosed`) and consumers, freeing it from the limit; idempotent. The SDK sends it for the transports it abandons when it rebuilds its media',
    ),
  produce: z
    .object({
      transportId: id,
      kind: z.enum(['audio', 'video']),
      rtpParameters: mediasoupObject,
      source: mediaSource,
      paused: z.boolean().optional(),
    })
    .describe('at most `MEDIA_MAX_PRODUCERS_PER_PARTICIPANT` (6) open, then `limit_reached`'),
  closeProducer: z.object({ producerId: id }),
  pauseProducer: z.object({ producerId: id }).describe('pause = mute'),
  resumeProducer: z.object({ producerId: id }).describe('pause = mute'),
  consume: z
    .object({ producerId: id })
    .describe(
      'the consumer starts paused. One consumer per producer: a second consume on the same transport returns the same consumer (so a client that lost the answer in a network drop can ask again); on a new receive transport the old consumer is replaced. At most `MEDIA_MAX_CONSUMERS_PER_PARTICIPANT` (400), then `limit_reached`',
    ),
  resumeConsumer: z.object({ consumerId: id }),
  pauseConsumer: z.object({ consumerId: id }),
  setConsumerPreferredLayers: z.object({
    consumerId: id,
    spatialLayer: z.number().int().min(0).max(2),
    temporalLayer: z.number().int().min(0).max(2).optional(),
  }),
  chat: z
    .object({ text: messageText() })
    .describe(
      '`text` ≤ `CHAT_MAX_LENGTH` (2000); longer gets `message_too_long`; control characters other than line breaks and tabs, and bidi overrides, get `validation_failed`',
    ),
  moderate: z
    .discriminatedUnion('action', [
      z.object({ action: z.literal('mute'), participantId: id, source: mediaSource.optional() }),
      z.object({ action: z.literal('remove'), participantId: id, ban: z.boolean().optional() }),
      z.object({ action: z.literal('lock'), locked: z.boolean() }),
      z.object({ action: z.literal('end') }),
      z.object({ action: z.literal('lowerHand'), participantId: id }),
    ])
    .describe(
      'needs the `moderate` grant; `remove` lasts for the meeting, `ban` also refuses the address new join tokens; `lowerHand` lowers someone’s raised hand (announced as `participantUpdated`)',
    ),
  raiseHand: z
    .object({ raised: z.boolean() })
    .describe('raises or lowers your hand; everyone gets `participantUpdated` with `handRaisedAt`. Idempotent: raising a raised hand keeps its place in the queue'),
  react: z
    .object({ reaction })
    .describe(
      'a passing reaction shown to everyone (`reaction` event, not echoed to the sender) and not stored; at most `REACTIONS_PER_10S` (10) per participant, then `rate_limited`',
    ),
  presentStart: z
    .object({ fileId: id, page: z.number().int().min(1).optional() })
    .describe('needs the `present` grant and a converted deck; while someone else presents, only a host may replace it (`forbidden`)'),
  presentPage: z.object({ page: z.number().int().min(1).max(10_000) }).describe('the presenter or a host'),
  presentStop: z.object({}).describe('the presenter or a host'),
  leave: z.object({}).describe('the server disconnects the socket after answering'),
} as const;

export type ClientMessageName = keyof typeof clientMessages;
export type ClientMessage<N extends ClientMessageName> = z.infer<(typeof clientMessages)[N]>;
