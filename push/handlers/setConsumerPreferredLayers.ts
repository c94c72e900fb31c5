import type { Handler } from './Handler.ts';

export const setConsumerPreferredLayers: Handler<'setConsumerPreferredLayers'> = async (ctx, payload) => {
  const seat = await ctx.seat();
  return ctx.services.media.call(seat.mediaNodeId!, 'setConsumerPreferredLayers', { ...ctx.who, ...payload });
};
