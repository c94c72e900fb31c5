import type { Handler } from './Handler.js';

export const closeProducer: Handler<'closeProducer'> = async (ctx, { producerId }) => {
  await ctx.services.publications.close(await ctx.seat(), producerId);
  return {};
};
