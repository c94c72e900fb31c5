import { AppError } from '../../common/errors.ts';
import type { Handler } from './Handler.ts';

/** The producer may live on another media node; the consumer's node pipes it over. */
export const consume: Handler<'consume'> = async (ctx, { producerId }) => {
  const { seat, mediaNodeId } = await ctx.mediaSeat();
  const { repo } = ctx.services;
  const producer = await repo.getProducer(seat.meetingId, producerId);
  if (!producer) throw new AppError('not_found', `producer ${producerId} does not exist`);
  const owner = await repo.getParticipant(seat.meetingId, producer.participantId);
  return ctx.media.call(mediaNodeId, 'consume', { ...ctx.who, producerId, producerNodeId: owner?.mediaNodeId });
};
