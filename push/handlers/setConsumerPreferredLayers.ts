import type { Handler } from './Handler.ts';

export const setConsumerPreferredLayers: Handler<'setConsumerPreferredLayers'> = async (ctx, payload) => {
  const { mediaNodeId } = await ctx.mediaSeat();
  return ctx.media.call(mediaNodeId, 'setConsumerPreferredLayers', { ...ctx.who, ...payload });
};
