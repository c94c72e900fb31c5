import net from 'node:net';
import * as sip from 'sip';
import { z } from 'zod';

/**
 * The SIP gateway as other tiers see it: how the api tier asks for a dial-out (`GatewayDialer`),
 * the schema of a dialable URI (checked at the API, again by the gateway), and the internal
 * route and registry kind a remote gateway is reached by.
 */

/** A SIP URI the gateway can send to: host checked, port a real port or absent. */
export interface CheckedUri {
  schema: 'sip' | 'sips';
  user?: string;
  host: string;
  port?: number;
  params: Record<string, string | null | undefined>;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export function validHost(host: string): boolean {
  if (host.startsWith('[') && host.endsWith(']')) return net.isIPv6(host.slice(1, -1));
  return net.isIPv4(host) || (HOSTNAME.test(host) && !/^[\d.]+$/.test(host));
}

export function validPort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535;
}

/**
 * Parses a sip: or sips: URI and checks what the gateway would use of it. `sip.parseUri` gives
 * NaN for a missing port and accepts any number; both are normalised or refused here.
 */
export function checkUri(text: unknown): CheckedUri | null {
  if (typeof text !== 'string' || text.length > 1024 || /[\s\0]/.test(text)) return null;
  let parsed: sip.SipUri | undefined;
  try {
    parsed = sip.parseUri(text);
  } catch {
    return null;
  }
  if (!parsed || (parsed.schema !== 'sip' && parsed.schema !== 'sips')) return null;
  if (typeof parsed.host !== 'string' || !validHost(parsed.host)) return null;
  const port = Number.isNaN(parsed.port) || parsed.port === undefined ? undefined : parsed.port;
  if (port !== undefined && !validPort(port)) return null;
  if (/[^A-Za-z0-9\-_.!~*'()&=+$,;?/%#]/.test(parsed.user ?? '')) return null;
  return { schema: parsed.schema, user: parsed.user, host: parsed.host, port, params: parsed.params ?? {} };
}

/**
 * Why a dial-out URI cannot be dialled, for the API's 400: a sip: URI with a user, a host that is
 * a name or an address, and a port in range if it has one.
 */
export function dialUriProblem(uri: string): string | null {
  const checked = checkUri(uri);
  if (!checked) return 'must be a SIP URI such as sip:+15551234567@carrier.example, with a valid host and a port from 1 to 65535';
  if (!checked.user) return 'must name a user, as in sip:+15551234567@carrier.example';
  const transport = checked.params.transport?.toLowerCase();
  if (transport !== undefined && transport !== 'udp' && transport !== 'tcp') return 'transport must be udp or tcp';
  return null;
}

/** A dial-out URI as the API takes it: 400 `validation_failed` with the reason otherwise. */
export const dialUriSchema = z
  .string()
  .max(512)
  .superRefine((uri, ctx) => {
    const problem = dialUriProblem(uri);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** The body of `POST /internal/sip/dial`, from the api tier of any process to a gateway. */
export const dialRequestSchema = z.object({ meetingId: z.string().min(1).max(64), uri: dialUriSchema });
export const DIAL_PATH = '/internal/sip/dial';

/** The registry kind gateways heartbeat under. */
export const GATEWAY_NODE_KIND = 'gateway-sip';

export interface DialResult {
  callId: string;
  /** The gateway that placed the call. */
  gatewayId: string;
}

/** Asks a SIP gateway (this process's, or the least busy live one) to call `uri` into the meeting. */
export interface GatewayDialer {
  dial(meetingId: string, uri: string): Promise<DialResult>;
}
