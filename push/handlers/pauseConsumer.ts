import type { Handler } from './Handler.ts';

export const pauseConsumer: Handler<'pauseConsumer'> = async (ctx, { consumerId }) => {
  const seat = await ctx.seat();
  return ctx.services.media.call(seat.mediaNodeId!, 'pauseConsumer', { ...ctx.who, consumerId });
};
