import type { Handler } from './Handler.js';

export const consume: Handler<'consume'> = async (ctx, { producerId }) => {
  const seat = await ctx.seat();
  return ctx.services.media.call(seat.mediaNodeId!, 'consume', { ...ctx.who, producerId });
};
