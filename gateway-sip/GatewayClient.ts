import { AppError, type ErrorCode, errorCodes } from '../common/errors.ts';
import { INTERNAL_KEY_HEADER, internalKeyFrom } from '../common/internalKey.ts';
import { NodeRegistry } from '../common/NodeRegistry.ts';
import type { RoleContext } from '../common/role.ts';
import { DIAL_PATH, type DialResult, GATEWAY_NODE_KIND, type GatewayDialer } from './contract.ts';

/** A gateway in this process, as far as dialling goes. */
export interface LocalGateway {
  dial(meetingId: string, uri: string): Promise<{ callId: string }>;
}

/**
 * How the api tier asks a SIP gateway to dial out: the gateway of this process when it runs one
 * (given at construction, so it exists first), else over HTTP to the least busy live one.
 */
export class GatewayClient implements GatewayDialer {
  readonly #ctx: Pick<RoleContext, 'config' | 'backends'>;
  readonly #local?: LocalGateway;
  constructor(ctx: Pick<RoleContext, 'config' | 'backends'>, local?: LocalGateway) {
    this.#ctx = ctx;
    this.#local = local;
  }

  async dial(meetingId: string, uri: string): Promise<DialResult> {
    const { config, backends } = this.#ctx;
    if (this.#local) return { ...(await this.#local.dial(meetingId, uri)), gatewayId: config.nodeId };
    const gateways = await new NodeRegistry(backends.store, GATEWAY_NODE_KIND).available();
    const gateway = gateways.sort((a, b) => Number(a.load.calls ?? 0) - Number(b.load.calls ?? 0))[0];
    if (!gateway) throw new AppError('unavailable', 'no SIP gateway is running');
    const res = await fetch(`${gateway.url}${DIAL_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [INTERNAL_KEY_HEADER]: internalKeyFrom(config.jwtSecret) },
      body: JSON.stringify({ meetingId, uri }),
      signal: AbortSignal.timeout(config.REQUEST_TIMEOUT_MS),
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
