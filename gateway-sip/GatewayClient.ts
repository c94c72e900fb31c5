import { AppError, type ErrorCode, errorCodes } from '../common/errors.ts';
import { NodeRegistry } from '../common/NodeRegistry.ts';
import type { RoleContext } from '../common/role.ts';
import { INTERNAL_KEY_HEADER, internalKeyFrom } from '../common/internalKey.ts';
import type { Gateway } from './Gateway.ts';

/** How the api tier asks a SIP gateway to dial out: in-process, or over HTTP to a live one. */
export class GatewayClient {
  private readonly ctx: RoleContext;
  constructor(ctx: RoleContext) {
    this.ctx = ctx;
  }

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
    if (!res.ok || !body.callId) {
      // The gateway's own refusal (bad URI, destination not allowed, rate) passes through as it is.
      const code: ErrorCode = body.code && Object.hasOwn(errorCodes, body.code) ? (body.code as ErrorCode) : res.status < 500 ? 'bad_request' : 'unavailable';
      throw new AppError(code, body.detail ?? 'the gateway refused to dial');
    }
    return { callId: body.callId, gatewayId: gateway.id };
  }
}
