import type { Handler } from './Handler.ts';

export const raiseHand: Handler<'raiseHand'> = async (ctx, { raised }) => {
  const seat = await ctx.seat();
  return { participant: await ctx.services.gestures.setHand(seat.meetingId, seat.id, raised) };
};
