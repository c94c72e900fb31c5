import type { Handler } from './Handler.ts';

export const resumeProducer: Handler<'resumeProducer'> = async (ctx, { producerId }) => {
  await ctx.services.publications.setPaused(await ctx.seat(), producerId, false);
  return {};
};
