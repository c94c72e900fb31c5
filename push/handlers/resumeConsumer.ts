import type { Handler } from './Handler.ts';

export const resumeConsumer: Handler<'resumeConsumer'> = async (ctx, { consumerId }) => {
  const seat = await ctx.seat();
  return ctx.services.media.call(seat.mediaNodeId!, 'resumeConsumer', { ...ctx.who, consumerId });
};
