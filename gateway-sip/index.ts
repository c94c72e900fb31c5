import { detach } from '../common/detach.ts';
import { podDeletionCostFor } from '../common/PodDeletionCost.ts';
import { internalKeyFrom } from '../common/internalKey.ts';
import { NodeHeartbeat, NodeRegistry } from '../common/NodeRegistry.ts';
import type { RoleContext, RunningRole } from '../common/role.ts';
import { GATEWAY_NODE_KIND } from './contract.ts';
import { Gateway } from './Gateway.ts';
import { GatewayMetrics } from './GatewayMetrics.ts';
import { gatewayOptions } from './gatewayOptions.ts';
import type { GatewayServices } from './MeetingLeg.ts';
import { registerGatewayRoutes } from './internalRoutes.ts';
import { SipServer } from './SipServer.ts';
import { SipTransport } from './SipTransport.ts';
import { TrunkAuth } from './TrunkAuth.ts';

/** A running gateway role, with the gateway itself for in-process dial-outs. */
export interface GatewayRole extends RunningRole {
  readonly gateway: Gateway;
}

export async function startGatewayRole(ctx: RoleContext, services: GatewayServices): Promise<GatewayRole> {
  const { config } = ctx;
  const logger = ctx.logger.child({ tier: 'gateway-sip' });
  const gateway = new Gateway(
    services,
    ctx.backends.bus,
    new TrunkAuth(config.SIP_ALLOWED_IPS, config.SIP_DIGEST_USERS, config.SIP_REALM),
    gatewayOptions(config),
    logger,
  );
  const transport = new SipTransport();
  await transport.listen(config.SIP_PORT, config.SIP_LISTEN_IP);
  const metrics = new GatewayMetrics(ctx.metrics, () => gateway.calls.size);
  gateway.attach(new SipServer(transport, gateway, logger, {}, metrics));
  registerGatewayRoutes(ctx.http, internalKeyFrom(config.jwtSecret), gateway);

  // Gateways register like media nodes: a SIP proxy (deploy/kamailio) spreads calls over them,
  // and the meeting tier treats their calls' seats like a push node's sockets.
  const heartbeat = new NodeHeartbeat(
    new NodeRegistry(ctx.backends.store, GATEWAY_NODE_KIND),
    () => ({ id: config.nodeId, url: config.internalUrl, state: gateway.draining ? 'draining' : 'serving', load: { calls: gateway.calls.size, sipPort: config.SIP_PORT } }),
    { logger, metrics: ctx.metrics },
  );
  await heartbeat.start();
  ctx.backends.onReconnect(() => detach(logger, 'heartbeat after reconnect', heartbeat.beat()));
  logger.info({ port: config.SIP_PORT, ip: config.SIP_LISTEN_IP }, 'SIP gateway listening on UDP and TCP');

  // Kubernetes: a scale-in removes the gateway with the fewest calls first.
  const deletionCost = await podDeletionCostFor(config, () => gateway.calls.size, logger, ctx.metrics);
  deletionCost?.start();

  return {
    name: 'gateway-sip',
    gateway,
    health: () => ({ sipCalls: gateway.calls.size, sipState: gateway.draining ? 'draining' : 'serving' }),
    /** SIGTERM: new calls get a 503 (the SIP proxy tries the next gateway); calls in progress go on until they end or the drain time is up. */
    drain: async () => {
      gateway.startDraining();
      await heartbeat.beat().catch(() => undefined);
      logger.info({ calls: gateway.calls.size }, 'draining');
      const deadline = Date.now() + config.SIP_DRAIN_TIMEOUT_MS;
      while (gateway.calls.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
      logger.info({ calls: gateway.calls.size }, 'drained');
    },
    close: async () => {
      deletionCost?.stop();
      await gateway.close();
      await heartbeat.stop({ remove: true }).catch(() => undefined);
      await transport.close();
    },
  };
}
