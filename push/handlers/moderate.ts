import { AppError } from '../../common/errors.ts';
import type { Handler } from './Handler.ts';

export const moderate: Handler<'moderate'> = async (ctx, action) => {
  const seat = await ctx.seat();
  if (!seat.grants.moderate) throw new AppError('forbidden', 'only hosts may moderate');
  const { meetings, seats, lifecycle, gestures } = ctx.services;
  switch (action.action) {
    case 'mute':
      await meetings.mute(seat.meetingId, action.participantId, action.source, seat.id);
      break;
    case 'remove':
      await seats.remove(seat.meetingId, action.participantId, seat.id, { ban: action.ban });
      break;
    case 'lock':
      await meetings.update(seat.meetingId, { locked: action.locked });
      break;
    case 'end':
      await lifecycle.end(seat.meetingId, seat.id);
      break;
    case 'lowerHand':
      await gestures.setHand(seat.meetingId, action.participantId, false);
      break;
  }
  return {};
};
