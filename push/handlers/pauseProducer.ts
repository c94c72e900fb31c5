import type { Handler } from './Handler.ts';

export const pauseProducer: Handler<'pauseProducer'> = async (ctx, { producerId }) => {
  await ctx.services.publications.setPaused(await ctx.seat(), producerId, true);
  return {};
};
