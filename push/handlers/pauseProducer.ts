import type { Handler } from './Handler.js';

export const pauseProducer: Handler<'pauseProducer'> = async (ctx, { producerId }) => {
  await ctx.services.publications.setPaused(await ctx.seat(), producerId, true);
  return {};
};
