import type { Handler } from './Handler.ts';

export const leave: Handler<'leave'> = async (ctx) => {
  ctx.socket.data.leaving = true;
  await ctx.services.seats.leave(ctx.who.meetingId, ctx.who.participantId, 'left');
  // Let the ack go out before the socket closes.
  setTimeout(() => ctx.socket.disconnect(true), 50);
  return {};
};
