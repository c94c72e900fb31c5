import type { Handler } from './Handler.ts';

export const chat: Handler<'chat'> = async (ctx, { text }) => {
  const seat = await ctx.seat();
  return { message: await ctx.services.meetings.postChat(seat.meetingId, seat, text) };
};
