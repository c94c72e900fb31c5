import type { Handler } from './Handler.js';


export const presentStop: Handler<'presentStop'> = async (ctx) => {
  await ctx.files.presentations.stop(await ctx.seat());
  return {};
};
