import type { SipMessage } from 'sip';
import { checkUri, validHost, validPort } from './contract.ts';

export { type CheckedUri, checkUri, dialUriProblem, validHost, validPort } from './contract.ts';

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
