// Minimal SIP message parsing and framing for test tooling (raw-message tests, the fake UAS, flood).

export interface SipMessage {
  startLine: string;
  /** Request method, or undefined for a response. */
  method?: string;
  /** Request-URI of a request. */
  uri?: string;
  /** Status code of a response. */
  status?: number;
  reason?: string;
  /** Header values by lower-case full name (compact forms are expanded), in order. */
  headers: Map<string, string[]>;
  body: string;
  raw: string;
}

const COMPACT: Record<string, string> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
};

export function parseSipMessage(raw: string): SipMessage | null {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  // Header lines that start with whitespace continue the previous one (RFC 3261 section 7.3.1).
  const lines = head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/);
  const startLine = lines.shift()?.trim() ?? '';
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    let name = line.slice(0, colon).trim().toLowerCase();
    name = COMPACT[name] ?? name;
    const list = headers.get(name) ?? [];
    list.push(line.slice(colon + 1).trim());
    headers.set(name, list);
  }
  const response = /^SIP\/2\.0\s+(\d{3})\s*(.*)$/i.exec(startLine);
  if (response) return { startLine, status: Number(response[1]), reason: response[2], headers, body, raw };
  const request = /^([A-Za-z]+)\s+(\S+)\s+SIP\/2\.0$/i.exec(startLine);
  if (request) return { startLine, method: request[1]!.toUpperCase(), uri: request[2], headers, body, raw };
  return null;
}

export function header(message: SipMessage, name: string): string | undefined {
  const key = name.toLowerCase();
  return message.headers.get(COMPACT[key] ?? key)?.[0];
}

export function headers(message: SipMessage, name: string): string[] {
  const key = name.toLowerCase();
  return message.headers.get(COMPACT[key] ?? key) ?? [];
}

/** The tag parameter of a From or To header value. */
export function tagOf(value: string | undefined): string | undefined {
  return value ? /;\s*tag=([^;>\s]+)/i.exec(value)?.[1] : undefined;
}

/** The URI inside a name-addr (`"x" <sip:a@b>;tag=1` gives `sip:a@b`) or an addr-spec. */
export function uriOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const angled = /<([^>]+)>/.exec(value);
  return angled ? angled[1] : value.split(';')[0]!.trim();
}

/** Splits a byte stream (TCP) into SIP messages by Content-Length; keepalive CRLFs are dropped. */
export class SipStreamFramer {
  private buffer = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const out: string[] = [];
    for (;;) {
      while (this.buffer.length >= 2 && this.buffer[0] === 0x0d && this.buffer[1] === 0x0a) this.buffer = this.buffer.subarray(2);
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) break;
      const head = this.buffer.subarray(0, end).toString('utf8');
      const match = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im.exec(head);
      const length = match ? Number(match[1]) : 0;
      const total = end + 4 + length;
      if (this.buffer.length < total) break;
      out.push(this.buffer.subarray(0, total).toString('utf8'));
      this.buffer = this.buffer.subarray(total);
    }
    return out;
  }
}

/** SDP connection address and audio port of a message body, if it has them. */
export function sdpAudio(body: string): { address?: string; port: number; payloadTypes: number[] } | null {
  const m = /^m=audio\s+(\d+)\s+\S+\s*([\d ]*)$/m.exec(body);
  if (!m) return null;
  const c = /^c=IN\s+IP[46]\s+(\S+)/m.exec(body);
  return {
    address: c?.[1],
    port: Number(m[1]),
    payloadTypes: m[2]!.trim().split(/\s+/).filter(Boolean).map(Number),
  };
}

let counter = 0;
export function randomToken(prefix = ''): string {
  counter++;
  return `${prefix}${Date.now().toString(36)}${counter.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
