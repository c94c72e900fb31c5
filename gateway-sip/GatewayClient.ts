import { AppError } from '../common/errors.js';
import { NodeRegistry } from '../common/NodeRegistry.js';
import type { RoleContext } from '../common/role.js';
import { INTERNAL_KEY_HEADER, internalKeyFrom } from '../common/internalKey.js';
import type { Gateway } from './Gateway.js';

/** How the api tier asks a SIP gateway to dial out: in-process, or over HTTP to a live one. */
export class GatewayClient {
  constructor(private readonly ctx: RoleContext) {}

  async dial(meetingId: string, uri: string): Promise<{ callId: string; gatewayId: string }> {
    const local = this.ctx.local.get('gateway') as Gateway | undefined;
    if (local) return { ...(await local.dial(meetingId, uri)), gatewayId: this.ctx.config.nodeId };
    const gateways = await new NodeRegistry(this.ctx.backends.store, 'gateway-sip').available();
    const gateway = gateways.sort((a, b) => Number(a.load.calls ?? 0) - Number(b.load.calls ?? 0))[0];
    if (!gateway) throw new AppError('unavailable', 'no SIP gateway is running');
    const res = await fetch(`${gateway.url}/internal/sip/dial`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [INTERNAL_KEY_HEADER]: internalKeyFrom(this.ctx.config.jwtSecret) },
      body: JSON.stringify({ meetingId, uri }),
      signal: AbortSignal.timeout(this.ctx.config.REQUEST_TIMEOUT_MS),
    });
    const body = (await res.json().catch(() => ({}))) as { callId?: string; code?: string; detail?: string };
    if (!res.ok || !body.callId) throw new AppError(res.status < 500 ? 'bad_request' : 'unavailable', body.detail ?? 'the gateway refused to dial');
    return { callId: body.callId, gatewayId: gateway.id };
  }
}
