import type { Handler } from './Handler.ts';

export const produce: Handler<'produce'> = async (ctx, payload) => {
  const producer = await ctx.services.publications.publish(await ctx.seat(), payload);
  return { producerId: producer.id };
};
