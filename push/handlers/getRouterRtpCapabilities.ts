import type { Handler } from './Handler.ts';

export const getRouterRtpCapabilities: Handler<'getRouterRtpCapabilities'> = async (ctx) => {
  const nodeId = await ctx.services.seats.mediaNodeFor(ctx.who.meetingId);
  return ctx.media.call(nodeId, 'getRouterRtpCapabilities', { meetingId: ctx.who.meetingId });
};
