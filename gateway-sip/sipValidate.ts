import net from 'node:net';
import * as sip from 'sip';
import type { SipMessage } from 'sip';

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

/** Why a parsed SIP message cannot be used as it is, or null when every field we read is sound. */
export function problemWith(message: SipMessage): string | null {
  const h = message.headers;
  if (message.method && !checkUri(message.uri)) return 'Bad Request-URI';
  const via = h.via?.[0];
  if (!via || typeof via.host !== 'string' || !validHost(via.host) || !(via.port === undefined || Number.isNaN(via.port) || validPort(via.port))) return 'Bad Via';
  for (const name of ['from', 'to'] as const) {
    const value = h[name];
    if (!value || typeof value.uri !== 'string' || !/^(sips?|tel):/i.test(value.uri) || /[\s\0<>]/.test(value.uri)) return `Bad ${name === 'from' ? 'From' : 'To'}`;
    if (value.params?.tag !== undefined && value.params.tag !== null && !/^[\w.!%*+`'~-]{1,128}$/.test(String(value.params.tag))) return `Bad ${name === 'from' ? 'From' : 'To'} tag`;
  }
  if (!/^[\w.!%*+`'~()<>:\\"/[\]?{}@-]{1,256}$/.test(h['call-id'])) return 'Bad Call-ID';
  for (const name of ['contact', 'record-route', 'route'] as const) {
    const list = h[name];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length > 32) return `Bad ${name}`;
    for (const entry of list) if (!entry || !checkUri(entry.uri)) return `Bad ${name}`;
  }
  if (message.content !== undefined && typeof message.content !== 'string') return 'Bad body';
  return null;
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
