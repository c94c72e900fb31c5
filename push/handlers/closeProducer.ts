import type { Handler } from './Handler.ts';

export const closeProducer: Handler<'closeProducer'> = async (ctx, { producerId }) => {
  await ctx.services.publications.close(await ctx.seat(), producerId);
  return {};
};
