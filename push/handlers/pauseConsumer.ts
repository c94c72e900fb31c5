import type { Handler } from './Handler.ts';

export const pauseConsumer: Handler<'pauseConsumer'> = async (ctx, { consumerId }) => {
  const { mediaNodeId } = await ctx.mediaSeat();
  return ctx.media.call(mediaNodeId, 'pauseConsumer', { ...ctx.who, consumerId });
};
