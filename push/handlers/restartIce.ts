import type { Handler } from './Handler.ts';

/** New ICE credentials for the transport, and, with TURN, a fresh TURN credential for the new gathering. */
export const restartIce: Handler<'restartIce'> = async (ctx, { transportId }) => {
  const { mediaNodeId } = await ctx.mediaSeat();
  const { iceParameters } = await ctx.media.call(mediaNodeId, 'restartIce', { ...ctx.who, transportId });
  const iceServers = ctx.iceServers();
  return { iceParameters, ...(iceServers.length > 0 && { iceServers }) };
};
