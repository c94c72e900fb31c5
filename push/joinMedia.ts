import type { ClientMessage, ConsumerOptions, JoinResult, ProducerInfo, TransportOptions } from '../protocol/src/index.ts';
import type { HandlerContext } from './SocketSession.ts';

type JoinMedia = Pick<JoinResult, 'transports' | 'consumers'>;

/**
 * The media a `join` asked for, made in the same step so that the client does not spend a
 * round trip on each: its transports, and with `consume` a consumer on the receive transport
 * of every producer the join answer lists. Consumers made here start resumed: nothing flows
 * before the client connects the receive transport, and it connects it while consuming these
 * (mediasoup-client negotiates the consumers it is given in one tick together, then connects),
 * so the media needs no `resumeConsumer` round trip; mediasoup asks the producer for a key
 * frame when the transport connects.
 *
 * Best effort: the seat is taken already, so what fails here is logged and left out, and the
 * client makes it the usual way (`createTransport`, `consume`), where the error reaches it.
 */
export async function openJoinMedia(
  ctx: HandlerContext,
  mediaNodeId: string,
  joined: JoinResult,
  asked: Pick<ClientMessage<'join'>, 'transports' | 'consume' | 'receiveVideo'>,
): Promise<JoinMedia> {
  const directions = new Set(asked.transports ?? []);
  if (directions.size === 0) return {};
  const [recv, send] = await Promise.all([
    directions.has('recv') ? createTransport(ctx, mediaNodeId, 'recv') : undefined,
    directions.has('send') ? createTransport(ctx, mediaNodeId, 'send') : undefined,
  ]);
  const transports = { ...(recv && { recv }), ...(send && { send }) };
  if (!asked.consume || !recv) return { transports };
  // An audio-only seat (`receiveVideo: false`) gets no video it said it would not take.
  const wanted = joined.producers.filter((p) => p.participantId !== ctx.who.participantId && (p.kind === 'audio' || asked.receiveVideo !== false));
  return { transports, consumers: await consumeAll(ctx, mediaNodeId, recv.id, wanted) };
}

async function createTransport(ctx: HandlerContext, mediaNodeId: string, direction: 'send' | 'recv'): Promise<TransportOptions | undefined> {
  try {
    return await ctx.media.call(mediaNodeId, 'createWebRtcTransport', { ...ctx.who, direction });
  } catch (error) {
    ctx.logger.warn({ ...ctx.who, direction, err: error }, 'join: could not make a transport; the client will ask for it');
    return undefined;
  }
}

async function consumeAll(ctx: HandlerContext, mediaNodeId: string, transportId: string, others: ProducerInfo[]): Promise<ConsumerOptions[]> {
  if (others.length === 0) return [];
  // Where each producer lives, so that one on another node is piped here.
  const nodes = new Map((await ctx.services.repo.listParticipants(ctx.who.meetingId)).map((p) => [p.id, p.mediaNodeId]));
  const made = await Promise.all(
    others.map((producer) =>
      ctx.media
        .call(mediaNodeId, 'consume', { ...ctx.who, producerId: producer.id, producerNodeId: nodes.get(producer.participantId), transportId, paused: false })
        .catch((error: unknown) => {
          ctx.logger.warn({ ...ctx.who, producerId: producer.id, err: error }, 'join: could not consume a producer; the client will ask for it');
          return undefined;
        }),
    ),
  );
  return made.filter((consumer) => consumer !== undefined);
}
