import type { Handler } from './Handler.ts';

export const createTransport: Handler<'createTransport'> = async (ctx, { direction }) => {
  const { mediaNodeId } = await ctx.mediaSeat();
  return ctx.media.call(mediaNodeId, 'createWebRtcTransport', { ...ctx.who, direction });
};
