import { NodeHeartbeat, NodeRegistry } from '../common/NodeRegistry.ts';
import { detach } from '../common/detach.ts';
import type { RoleContext, RunningRole } from '../common/role.ts';
import { meetingServices } from '../meeting/services.ts';
import { Gateway } from './Gateway.ts';
import { registerGatewayRoutes } from './internalRoutes.ts';
import { SipServer } from './SipServer.ts';
import { SipTransport } from './SipTransport.ts';
import { TrunkAuth } from './TrunkAuth.ts';

export async function startGatewayRole(ctx: RoleContext): Promise<RunningRole> {
  const { config } = ctx;
  const logger = ctx.logger.child({ tier: 'gateway-sip' });
  const services = meetingServices(ctx);
  const gateway = new Gateway(
    services,
    ctx.backends.bus,
    new TrunkAuth(config.SIP_ALLOWED_IPS, config.SIP_DIGEST_USERS, config.SIP_REALM),
    {
      nodeId: config.nodeId,
      listenIp: config.SIP_LISTEN_IP,
      announcedAddress: config.SIP_ANNOUNCED_ADDRESS,
      sipPort: config.SIP_PORT,
      get rtpTimeoutMs() {
        return config.SIP_RTP_TIMEOUT_MS;
      },
      maxCalls: config.SIP_MAX_CALLS,
      inviteRate: config.SIP_INVITE_RATE,
      ivrTries: config.SIP_IVR_TRIES,
      maxCallsPerTrunk: config.SIP_MAX_CALLS_PER_TRUNK,
      maxCallsPerMeeting: config.SIP_MAX_CALLS_PER_MEETING,
      pinGuesses: config.SIP_PIN_GUESSES,
      dialAllowlist: config.SIP_DIAL_ALLOWLIST,
      dialRate: config.SIP_DIAL_RATE,
      dialTimeoutMs: config.SIP_DIAL_TIMEOUT_MS,
    },
    logger,
  );
  const transport = new SipTransport();
  await transport.listen(config.SIP_PORT, config.SIP_LISTEN_IP);
  gateway.attach(new SipServer(transport, gateway, logger));
  ctx.local.set('gateway', gateway);
  registerGatewayRoutes(ctx, gateway);

  // Gateways register like media nodes: a SIP proxy (deploy/kamailio) spreads calls over them,
  // and the meeting tier treats their calls' seats like a push node's sockets.
  const heartbeat = new NodeHeartbeat(
    new NodeRegistry(ctx.backends.store, 'gateway-sip'),
    () => ({ id: config.nodeId, url: config.internalUrl, state: 'serving', load: { calls: gateway.calls.size, sipPort: config.SIP_PORT } }),
    { logger, metrics: ctx.metrics },
  );
  await heartbeat.start();
  ctx.backends.onReconnect(() => detach(logger, 'heartbeat after reconnect', heartbeat.beat()));
  logger.info({ port: config.SIP_PORT, ip: config.SIP_LISTEN_IP }, 'SIP gateway listening on UDP and TCP');

  return {
    name: 'gateway-sip',
    health: () => ({ sipCalls: gateway.calls.size }),
    close: async () => {
      await gateway.close();
      await heartbeat.stop({ remove: true }).catch(() => undefined);
      await transport.close();
    },
  };
}
