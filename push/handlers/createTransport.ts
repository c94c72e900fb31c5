import type { Handler } from './Handler.ts';

export const createTransport: Handler<'createTransport'> = async (ctx, { direction }) => {
  const seat = await ctx.seat();
  return ctx.services.media.call(seat.mediaNodeId!, 'createWebRtcTransport', { ...ctx.who, direction });
};
