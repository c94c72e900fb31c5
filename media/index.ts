import type { Logger } from '../common/logger.ts';
import { NodeHeartbeat, NodeRegistry, STALE_MS } from '../common/NodeRegistry.ts';
import type { RoleContext, RunningRole } from '../common/role.ts';
import { meetingChannel, type SeatedReader } from '../meeting/contract.ts';
import { type LocalMediaNode, MEDIA_NODE_KIND, type MediaClient, type MediaLoad } from './contract.ts';
import { internalKeyFrom } from '../common/internalKey.ts';
import { registerMediaRoutes } from './internalRoutes.ts';
import { MediaNode, type PeerNotice } from './MediaNode.ts';
import { MediaMetrics } from './MediaMetrics.ts';
import { MediaReconciler } from './MediaReconciler.ts';
import { mediaReadiness } from './readiness.ts';
import { WorkerPool } from './WorkerPool.ts';
import { BackgroundLoop } from '../common/BackgroundLoop.ts';
import { detach } from '../common/detach.ts';
import { podDeletionCostFor } from '../common/PodDeletionCost.ts';

export const peerChannel = (nodeId: string) => `media-node:${nodeId}`;

/** This process's media node: its workers started, not yet serving. */
export interface EmbeddedMedia {
  readonly pool: WorkerPool;
  /** `LocalMediaNode` is the contract: the node must implement every method of `MediaApi`. */
  readonly node: MediaNode & LocalMediaNode;
}

/** What the media role needs from the rest of the process. */
export interface MediaRoleDeps {
  /** The process's media client, for calls to peer nodes (piping). */
  client: MediaClient;
  /** Meetings and seats in the store, to drop media nobody holds any more. */
  seats: SeatedReader;
}

/**
 * Starts the workers and makes the node. Separate from the role's start because the process's
 * media client is made with this node (in-process calls), and the role needs that client.
 */
export async function createMediaNode(ctx: RoleContext): Promise<EmbeddedMedia> {
  const { config, backends } = ctx;
  const logger = ctx.logger.child({ tier: 'media' });
  const pool = new WorkerPool(
    {
      size: config.MEDIA_WORKERS,
      listenIp: config.MEDIA_LISTEN_IP,
      announcedAddress: config.MEDIA_ANNOUNCED_ADDRESS,
      webRtcServerPortBase: config.MEDIA_PORT_BASE,
      rtcMinPort: config.MEDIA_RTC_MIN_PORT,
      rtcMaxPort: config.MEDIA_RTC_MAX_PORT,
    },
    logger,
  );
  await pool.start();
  const node = new MediaNode(
    pool,
    {
      publish: (meetingId, event) => detach(logger, 'publishing a meeting event', backends.bus.publish(meetingChannel(meetingId), event)),
      notifyPeer: (nodeId, notice) => detach(logger, 'notifying a peer node', backends.bus.publish(peerChannel(nodeId), notice)),
    },
    {
      nodeId: config.nodeId,
      routerIdleTimeoutMs: config.ROUTER_IDLE_TIMEOUT_MS,
      consumersPerRouter: config.MEDIA_CONSUMERS_PER_ROUTER,
      maxConsumers: config.MEDIA_WORKERS * config.MEDIA_MAX_CONSUMERS_PER_WORKER,
      listenIp: config.MEDIA_LISTEN_IP,
      announcedAddress: config.MEDIA_ANNOUNCED_ADDRESS,
      limits: {
        transports: config.MEDIA_MAX_TRANSPORTS_PER_PARTICIPANT,
        producers: config.MEDIA_MAX_PRODUCERS_PER_PARTICIPANT,
        consumers: config.MEDIA_MAX_CONSUMERS_PER_PARTICIPANT,
      },
    },
    logger,
  );
  // Typed as EmbeddedMedia: this compiles only while the node serves the whole media API.
  return { pool, node };
}

export async function startMediaRole(ctx: RoleContext, media: EmbeddedMedia, deps: MediaRoleDeps): Promise<RunningRole> {
  const { config, backends } = ctx;
  const logger = ctx.logger.child({ tier: 'media' });
  const { pool, node } = media;
  // Other media nodes reach this one for piping through the same client as every other tier.
  node.connectPeers(deps.client);
  const offNotices = await backends.bus.subscribe(peerChannel(node.nodeId), (notice) => node.onPeerNotice(notice as PeerNotice));
  registerMediaRoutes(ctx.http, node, internalKeyFrom(config.jwtSecret));

  const registry = new NodeRegistry<MediaLoad>(backends.store, MEDIA_NODE_KIND);
  const cpu = cpuMeter(pool, logger);
  const heartbeat = new NodeHeartbeat<MediaLoad>(
    registry,
    () => ({
      id: node.nodeId,
      url: config.internalUrl,
      state: node.draining ? 'draining' : 'serving',
      load: {
        workers: pool.size,
        rooms: node.roomCount,
        ...pool.totalLoad(),
        maxConsumers: config.MEDIA_WORKERS * config.MEDIA_MAX_CONSUMERS_PER_WORKER,
        cpu: cpu.read(),
      },
    }),
    { logger, metrics: ctx.metrics },
  );
  await heartbeat.start();
  const reconciler = new MediaReconciler(node, deps.seats, logger, { metrics: ctx.metrics });
  reconciler.start();
  ctx.backends.onReconnect(() => {
    detach(logger, 'heartbeat after reconnect', heartbeat.beat());
    detach(logger, 'reconciling after reconnect', reconciler.runNow());
  });

  // A peer that stopped heartbeating is gone: its pipes carry nothing any more. Right after a
  // store outage every record is stale (nobody could heartbeat), so wait for fresh ones first.
  const peerCheck = new BackgroundLoop({ name: 'media-peer-check', intervalMs: 2000, logger, metrics: ctx.metrics }, async () => {
    if (peerCheck.healthyForMs < STALE_MS) return;
    for (const peer of node.peers()) {
      const record = await registry.get(peer);
      if (record === null || Date.now() - record.updatedAt > STALE_MS) node.forgetPeer(peer);
    }
  });
  peerCheck.start();

  const metrics = new MediaMetrics(pool, node, ctx.metrics, logger, {
    sampleMs: config.MEDIA_STATS_INTERVAL_MS,
    maxConsumers: config.MEDIA_WORKERS * config.MEDIA_MAX_CONSUMERS_PER_WORKER,
  });
  metrics.start();

  // Kubernetes: a scale-in removes the media pod with the fewest participants first.
  const deletionCost = await podDeletionCostFor(config, () => node.participantCount, logger, ctx.metrics);
  deletionCost?.start();

  const stop = async () => {
    deletionCost?.stop();
    peerCheck.stop();
    reconciler.stop();
    metrics.stop();
    cpu.stop();
    await offNotices();
    await heartbeat.stop({ remove: true }).catch(() => undefined);
    await node.close();
    await pool.close();
  };

  return {
    name: 'media',
    health: () => ({ mediasoupWorkers: pool.size, mediaLoad: pool.totalLoad(), mediaState: node.draining ? 'draining' : 'serving' }),
    ready: async () => mediaReadiness(pool, node),
    /**
     * SIGTERM: take no new meetings or participants, keep the calls, and return once the node is
     * empty or the drain time is up. Participants still here are then moved by the meeting tier.
     */
    drain: async () => {
      node.startDraining();
      await heartbeat.beat().catch(() => undefined);
      logger.info({ participants: node.participantCount }, 'draining');
      const deadline = Date.now() + config.MEDIA_DRAIN_TIMEOUT_MS;
      while (node.participantCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
      logger.info({ participants: node.participantCount }, 'drained');
    },
    close: stop,
  };
}

/** Share of one core used by this process and its workers since the last reading. */
function cpuMeter(pool: WorkerPool, logger: Logger): { read: () => number; stop: () => void } {
  const ownMs = () => {
    const own = process.cpuUsage();
    return (own.user + own.system) / 1000;
  };
  // From now on: the CPU the process spent starting up (before the first reading) is not load.
  // Counted from zero, a new node's first heartbeat reported hundreds of cores and placement
  // avoided it until the next one.
  let last = { at: Date.now(), used: ownMs() };
  let workersUsed = 0;
  const sample = async () => {
    let total = 0;
    for (const { worker } of pool.workers) {
      const usage = await worker.getResourceUsage().catch(() => undefined);
      if (usage) total += usage.ru_utime + usage.ru_stime;
    }
    workersUsed = total;
  };
  const timer = setInterval(() => detach(logger, 'sampling worker CPU', sample()), 2000);
  timer.unref();
  const read = () => {
    const used = workersUsed + ownMs();
    const now = Date.now();
    const share = now > last.at ? Math.max(0, used - last.used) / (now - last.at) : 0;
    last = { at: now, used };
    return Math.round(share * 100) / 100;
  };
  return { read, stop: () => clearInterval(timer) };
}
