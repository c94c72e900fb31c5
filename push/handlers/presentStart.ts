import type { Handler } from './Handler.ts';


export const presentStart: Handler<'presentStart'> = async (ctx, { fileId, page }) => ({
  presentation: await ctx.presentations.start(await ctx.seat(), fileId, page),
});
