import type { Handler } from './Handler.ts';

export const closeTransport: Handler<'closeTransport'> = async (ctx, { transportId }) => {
  await ctx.services.publications.closeTransport(await ctx.seat(), transportId);
  return {};
};
