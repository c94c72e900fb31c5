import type { Handler } from './Handler.ts';

export const resumeConsumer: Handler<'resumeConsumer'> = async (ctx, { consumerId }) => {
  const { mediaNodeId } = await ctx.mediaSeat();
  return ctx.media.call(mediaNodeId, 'resumeConsumer', { ...ctx.who, consumerId });
};
