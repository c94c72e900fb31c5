import { openJoinMedia } from '../joinMedia.ts';
import { meetingRoom, participantRoom } from '../MeetingFanout.ts';
import type { Handler } from './Handler.ts';

/**
 * Takes the seat, or takes it back within the grace period. Any older socket of the same
 * participant (a connection that died without the server noticing yet) is dropped, wherever it
 * is. The transports and consumers the client asked for come with the answer (see joinMedia.ts).
 */
export const join: Handler<'join'> = async (ctx, payload) => {
  const { socket, services, claims } = ctx;
  await ctx.fanout.attach(claims.mid);
  const { result, previousSocketId, mediaNodeId } = await services.seats.join(claims, socket.id, payload, ctx.nodeId).catch(async (error: unknown) => {
    await ctx.fanout.detach(claims.mid);
    throw error;
  });
  // Every socket is in a room named by its id, on whichever push node holds it. A broadcast,
  // not fetchSockets: it must not wait for answers from a push node that died.
  if (previousSocketId) socket.nsp.in(previousSocketId).disconnectSockets(true);
  await socket.join([meetingRoom(claims.mid), participantRoom(claims.sub)]);
  socket.data.joined = true;
  socket.data.kind = payload.kind ?? 'browser';
  // A fresh TURN credential: a rejoin may come long after the HTTP join signed the first one.
  const iceServers = ctx.iceServers();
  return { ...result, ...(await openJoinMedia(ctx, mediaNodeId, result, payload)), ...(iceServers.length > 0 && { iceServers }) };
};
