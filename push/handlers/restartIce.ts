import type { Handler } from './Handler.ts';

export const restartIce: Handler<'restartIce'> = async (ctx, { transportId }) => {
  const seat = await ctx.seat();
  return ctx.services.media.call(seat.mediaNodeId!, 'restartIce', { ...ctx.who, transportId });
};
