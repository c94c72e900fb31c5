import type { Handler } from './Handler.ts';

export const getRouterRtpCapabilities: Handler<'getRouterRtpCapabilities'> = async (ctx) => ({
  rtpCapabilities: await ctx.services.seats.routerRtpCapabilities(ctx.who.meetingId),
});
