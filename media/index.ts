import { Gauge } from 'prom-client';
import type { RoleContext, RunningRole } from '../common/role.js';
import { meetingChannel } from '../meeting/MeetingEvents.js';
import { MediaNode } from './MediaNode.js';
import { WorkerPool } from './WorkerPool.js';

export async function startMediaRole(ctx: RoleContext): Promise<RunningRole> {
  const { config } = ctx;
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
  ctx.local.set('workerPool', pool);
  const node = new MediaNode(
    pool,
    (meetingId, event) => void ctx.backends.bus.publish(meetingChannel(meetingId), event),
    { nodeId: config.nodeId, routerIdleTimeoutMs: config.ROUTER_IDLE_TIMEOUT_MS, consumersPerRouter: config.MEDIA_CONSUMERS_PER_ROUTER },
    logger,
  );
  ctx.local.set('mediaNode', node);

  const registers = [ctx.metrics];
  new Gauge({ name: 'convene_mediasoup_workers', help: 'Live mediasoup workers in this process', registers, collect() { this.set(pool.size); } });
  for (const field of ['routers', 'transports', 'producers', 'consumers'] as const) {
    new Gauge({
      name: `convene_mediasoup_${field}`,
      help: `mediasoup ${field} open in this process`,
      registers,
      collect() {
        this.set(pool.totalLoad()[field]);
      },
    });
  }

  return {
    name: 'media',
    health: () => ({ mediasoupWorkers: pool.size, mediaLoad: pool.totalLoad() }),
    close: async () => {
      await node.close();
      await pool.close();
    },
  };
}
