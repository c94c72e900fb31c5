import type { Handler } from './Handler.ts';


export const presentStop: Handler<'presentStop'> = async (ctx) => {
  await ctx.presentations.stop(await ctx.seat());
  return {};
};
