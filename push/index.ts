import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { podDeletionCostFor } from '../common/PodDeletionCost.ts';
import { AppError } from '../common/errors.ts';
import { NodeHeartbeat, NodeRegistry } from '../common/NodeRegistry.ts';
import type { RoleContext, RunningRole } from '../common/role.ts';
import type { Presentations } from '../files/contract.ts';
import type { MediaClient } from '../media/contract.ts';
import type { MeetingApi } from '../meeting/contract.ts';
import { authenticate } from './authenticate.ts';
import { Dispatcher } from './Dispatcher.ts';
import { handlers } from './handlers/index.ts';
import { MeetingFanout, participantRoom } from './MeetingFanout.ts';
import { PushMetrics } from './PushMetrics.ts';
import { PushReconciler } from './PushReconciler.ts';
import type { ClientSocket, HandlerContext } from './SocketSession.ts';
import { detach } from '../common/detach.ts';
import { createRedis } from '../common/redis.ts';
import { TurnCredentials } from '../common/TurnCredentials.ts';

/** What socket handlers call: the meeting domain, media nodes, and presenting (no files queue). */
export interface PushRoleDeps {
  meeting: MeetingApi;
  media: MediaClient;
  presentations: Presentations;
}

export async function startPushRole(ctx: RoleContext, deps: PushRoleDeps): Promise<RunningRole> {
  const logger = ctx.logger.child({ tier: 'push' });
  const services = deps.meeting;
  const io = new Server(ctx.http.server, {
    path: '/socket.io',
    cors: { origin: true },
    // Short heartbeats: a vanished client is noticed within seconds, not the 45 s default.
    pingInterval: 5000,
    pingTimeout: 5000,
    maxHttpBufferSize: 256 * 1024,
  });
  const adapterClients: Redis[] = [];
  if (ctx.backends.redis) {
    const { target, prefix } = ctx.backends.redis;
    const name = `convene-${ctx.config.nodeId}-socket.io`;
    // The adapter publishes without awaiting: its commands wait for Redis to come back instead
    // of failing fast like the store's, so none of them becomes an unhandled rejection.
    const patient = { enableOfflineQueue: true, maxRetriesPerRequest: null };
    const pub = createRedis(target, { ...patient, connectionName: `${name}-pub` });
    const sub = createRedis(target, { ...patient, connectionName: `${name}-sub` });
    adapterClients.push(pub, sub);
    // Without a listener ioredis prints every reconnect attempt of an outage to stderr.
    for (const client of adapterClients) client.on('error', (error: Error) => logger.warn({ err: error }, 'socket.io adapter Redis connection error'));
    io.adapter(createAdapter(pub, sub, { key: `${prefix}socket.io` }));
  }

  const fanout = new MeetingFanout(io, ctx.backends.bus, logger, (_meetingId, event) => {
    // Removal and the meeting's end close the affected sockets after telling them why.
    if (event.event !== 'moderation' || event.payload.action === 'mute') return;
    const target = event.to ? io.local.in(participantRoom(event.to)) : io.local.in(`m:${_meetingId}`);
    setTimeout(() => target.disconnectSockets(true), 100);
  });
  const participantsByKind = () => {
    const counts = new Map<string, number>();
    for (const socket of io.of('/').sockets.values()) {
      const data = (socket as unknown as ClientSocket).data;
      if (data.joined && data.kind) counts.set(data.kind, (counts.get(data.kind) ?? 0) + 1);
    }
    return counts;
  };
  const metrics = new PushMetrics(ctx.metrics, { sockets: () => io.engine.clientsCount, participantsByKind });
  const dispatcher = new Dispatcher(handlers, logger, (socket, event, code, answer) => metrics.outcome(socket, event, code, answer));

  const heartbeat = new NodeHeartbeat(
    new NodeRegistry(ctx.backends.store, 'push'),
    () => ({ id: ctx.config.nodeId, url: ctx.config.publicUrl, state: 'serving', load: { sockets: io.engine.clientsCount } }),
    { logger, metrics: ctx.metrics },
  );
  await heartbeat.start();
  const reconciler = new PushReconciler(io, fanout, services.repo, logger, { metrics: ctx.metrics });
  reconciler.start();
  ctx.backends.onReconnect(() => {
    detach(logger, 'heartbeat after reconnect', heartbeat.beat());
    detach(logger, 'reconciling after reconnect', reconciler.runNow());
  });

  // Kubernetes: a scale-in removes the push pod with the fewest sockets first (they reconnect elsewhere).
  const deletionCost = await podDeletionCostFor(ctx.config, () => io.engine.clientsCount, logger, ctx.metrics);
  deletionCost?.start();

  const turn = TurnCredentials.fromConfig(ctx.config);
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
      media: deps.media,
      presentations: deps.presentations,
      fanout,
      logger: socketLogger,
      nodeId: ctx.config.nodeId,
      who,
      iceServers: () => turn.iceServers(claims.sub),
      seat: async () => {
        const seat = await services.repo.getParticipant(claims.mid, claims.sub);
        if (!seat) throw new AppError('participant_not_found', 'you are not in this meeting');
        return seat;
      },
      mediaSeat: async () => {
        const seat = await context.seat();
        if (!seat.mediaNodeId) throw new AppError('unavailable', 'you have no media node now; join again to get one');
        return { seat, mediaNodeId: seat.mediaNodeId };
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
      deletionCost?.stop();
      reconciler.stop();
      await heartbeat.stop({ remove: true }).catch(() => undefined);
      io.local.disconnectSockets(true);
      // The HTTP server belongs to the process, not to socket.io: close only the engine.
      io.engine.close();
      for (const client of adapterClients) client.disconnect();
    },
  };
}
