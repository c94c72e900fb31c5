import type { Handler } from './Handler.ts';


export const presentPage: Handler<'presentPage'> = async (ctx, { page }) => ({
  presentation: await ctx.presentations.turn(await ctx.seat(), page),
});
