import type { Handler } from './Handler.ts';

export const react: Handler<'react'> = async (ctx, { reaction }) => {
  const seat = await ctx.seat();
  return ctx.services.gestures.react(seat.meetingId, seat.id, reaction);
};
