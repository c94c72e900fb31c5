import { createAdapter } from '@socket.io/redis-adapter';
import { Server } from 'socket.io';
import { AppError } from '../common/errors.ts';
import { NodeHeartbeat, NodeRegistry } from '../common/NodeRegistry.ts';
import type { RoleContext, RunningRole } from '../common/role.ts';
import { fileServices } from '../files/services.ts';
import { meetingServices } from '../meeting/services.ts';
import { authenticate } from './authenticate.ts';
import { Dispatcher } from './Dispatcher.ts';
import { handlers } from './handlers/index.ts';
import { MeetingFanout, participantRoom } from './MeetingFanout.ts';
import type { ClientSocket, HandlerContext } from './SocketSession.ts';
import { detach } from '../common/detach.ts';

export async function startPushRole(ctx: RoleContext): Promise<RunningRole> {
  const logger = ctx.logger.child({ tier: 'push' });
  const services = meetingServices(ctx);
  const io = new Server(ctx.http.server, {
    path: '/socket.io',
    cors: { origin: true },
    // Short heartbeats: a vanished client is noticed within seconds, not the 45 s default.
    pingInterval: 5000,
    pingTimeout: 5000,
    maxHttpBufferSize: 256 * 1024,
  });
  if (ctx.backends.redis) {
    const { client, prefix } = ctx.backends.redis;
    io.adapter(createAdapter(client.duplicate(), client.duplicate(), { key: `${prefix}socket.io` }));
  }

  const fanout = new MeetingFanout(io, ctx.backends.bus, logger, (_meetingId, event) => {
    // Removal and the meeting's end close the affected sockets after telling them why.
    if (event.event !== 'moderation' || event.payload.action === 'mute') return;
    const target = event.to ? io.local.in(participantRoom(event.to)) : io.local.in(`m:${_meetingId}`);
    setTimeout(() => target.disconnectSockets(true), 100);
  });
  const dispatcher = new Dispatcher(handlers, logger);

  const heartbeat = new NodeHeartbeat(
    new NodeRegistry(ctx.backends.store, 'push'),
    () => ({ id: ctx.config.nodeId, url: ctx.config.publicUrl, state: 'serving', load: { sockets: io.engine.clientsCount } }),
    (error) => logger.error({ err: error }, 'push heartbeat failed'),
  );
  await heartbeat.start();

  io.use(authenticate(services.access));
  io.on('connection', (raw) => {
    const socket = raw as unknown as ClientSocket;
    const { claims } = socket.data;
    const who = { meetingId: claims.mid, participantId: claims.sub };
    const socketLogger = logger.child(who);
    const context: HandlerContext = {
      socket,
      claims,
      services,
      files: fileServices(ctx),
      fanout,
      logger: socketLogger,
      nodeId: ctx.config.nodeId,
      who,
      seat: async () => {
        const seat = await services.repo.getParticipant(claims.mid, claims.sub);
        if (!seat) throw new AppError('participant_not_found', 'you are not in this meeting');
        return seat;
      },
    };
    dispatcher.attach(socket, context);
    socket.on('disconnect', (reason) => {
      if (!socket.data.joined) return;
      detach(socketLogger, 'leaving the meeting channel', fanout.detach(claims.mid));
      if (socket.data.leaving) return;
      socketLogger.debug({ reason }, 'socket disconnected');
      services.seats.disconnected(claims.mid, claims.sub, socket.id).catch((error: unknown) => {
        socketLogger.error({ err: error }, 'could not hold the seat');
      });
    });
  });

  return {
    name: 'push',
    health: () => ({ sockets: io.engine.clientsCount }),
    close: async () => {
      await heartbeat.stop({ remove: true }).catch(() => undefined);
      io.local.disconnectSockets(true);
      // The HTTP server belongs to the process, not to socket.io: close only the engine.
      io.engine.close();
    },
  };
}
