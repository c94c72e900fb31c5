import type { Handler } from './Handler.ts';

export const restartIce: Handler<'restartIce'> = async (ctx, { transportId }) => {
  const { mediaNodeId } = await ctx.mediaSeat();
  return ctx.media.call(mediaNodeId, 'restartIce', { ...ctx.who, transportId });
};
