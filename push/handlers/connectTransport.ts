import type { Handler } from './Handler.ts';

export const connectTransport: Handler<'connectTransport'> = async (ctx, payload) => {
  const seat = await ctx.seat();
  return ctx.services.media.call(seat.mediaNodeId!, 'connectTransport', { ...ctx.who, ...payload });
};
