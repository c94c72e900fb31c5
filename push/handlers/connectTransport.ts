import type { Handler } from './Handler.ts';

export const connectTransport: Handler<'connectTransport'> = async (ctx, payload) => {
  const { mediaNodeId } = await ctx.mediaSeat();
  return ctx.media.call(mediaNodeId, 'connectTransport', { ...ctx.who, ...payload });
};
