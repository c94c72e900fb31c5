import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import * as sip from 'sip';
import type { SipMessage } from 'sip';
import { validPort } from './sipValidate.ts';

/** Where a message came from, and how to answer: the same UDP address or TCP connection. */
export interface Flow {
  protocol: 'UDP' | 'TCP';
  address: string;
  port: number;
  socket?: net.Socket;
}

export interface SipTransportEvents {
  message: [SipMessage, Flow];
  /** Text that is not a SIP message the parser understands. */
  malformed: [string, Flow];
  /** A message that could not be sent: unwritable, or no usable destination. */
  sendFailed: [Error, Flow];
}

const MAX_DATAGRAM = 65_000;
const MAX_TCP_BUFFER = 256 * 1024;

/** SIP over UDP and TCP on one address; parsing by the `sip` package. */
export class SipTransport extends EventEmitter<SipTransportEvents> {
  #udp?: dgram.Socket;
  #tcp?: net.Server;
  readonly #connections = new Set<net.Socket>();

  async listen(port: number, address: string): Promise<void> {
    const udp = dgram.createSocket('udp4');
    // A send to a name that does not resolve, or refused by the kernel, is reported here; the
    // socket stays usable, and without a listener it would take the process down.
    udp.on('error', (error) => this.emit('sendFailed', error, { protocol: 'UDP', address: '', port: 0 }));
    udp.on('message', (data, rinfo) => {
      if (data.length > MAX_DATAGRAM) return;
      this.#receive(data.toString('binary'), { protocol: 'UDP', address: rinfo.address, port: rinfo.port });
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, address, () => resolve());
    });
    this.#udp = udp;

    const tcp = net.createServer((socket) => {
      this.#connections.add(socket);
      const flow: Flow = { protocol: 'TCP', address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, socket };
      let buffered = 0;
      const parse = sip.makeStreamParser(
        (message) => {
          buffered = 0;
          this.#accept(message, flow, '');
        },
        () => {
          this.emit('malformed', 'oversized message', flow);
          socket.destroy();
        },
      );
      socket.setEncoding('binary');
      socket.on('data', (chunk: string) => {
        buffered += chunk.length;
        if (buffered > MAX_TCP_BUFFER) {
          socket.destroy();
          return;
        }
        try {
          parse(chunk);
        } catch {
          this.emit('malformed', chunk, flow);
        }
      });
      socket.on('error', () => undefined);
      socket.on('close', () => this.#connections.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(udp.address().port, address, () => resolve());
    });
    this.#tcp = tcp;
  }

  /** Sends a message; false when it could not be (bad destination, unprintable message). */
  send(message: SipMessage, flow: Flow): boolean {
    let text: string;
    try {
      text = sip.stringify(message);
    } catch (error) {
      this.emit('sendFailed', error as Error, flow);
      return false;
    }
    return this.sendRaw(text, flow);
  }

  /** For answers built as text, when the parser could not make sense of the request. */
  sendRaw(text: string, flow: Flow): boolean {
    if (!validPort(flow.port) || !flow.address) {
      this.emit('sendFailed', new Error(`no usable destination ${flow.address}:${flow.port}`), flow);
      return false;
    }
    try {
      if (flow.protocol === 'TCP') {
        if (flow.socket && !flow.socket.destroyed) {
          flow.socket.write(text, 'binary');
          return true;
        }
        const socket = net.connect(flow.port, flow.address, () => socket.write(text, 'binary'));
        socket.on('error', (error) => this.emit('sendFailed', error, flow));
        socket.setTimeout(32_000, () => socket.destroy());
        flow.socket = socket;
        return true;
      }
      if (!this.#udp) return false;
      this.#udp.send(Buffer.from(text, 'binary'), flow.port, flow.address, (error) => {
        if (error) this.emit('sendFailed', error, flow);
      });
      return true;
    } catch (error) {
      this.emit('sendFailed', error as Error, flow);
      return false;
    }
  }

  /** The port both sockets listen on (useful after listening on port 0). */
  get port(): number {
    return this.#udp?.address().port ?? 0;
  }

  async close(): Promise<void> {
    this.#udp?.close();
    for (const socket of this.#connections) socket.destroy();
    await new Promise<void>((resolve) => (this.#tcp ? this.#tcp.close(() => resolve()) : resolve()));
  }

  #receive(text: string, flow: Flow): void {
    this.#deliver(readDatagram(text, flow), flow);
  }

  #accept(message: SipMessage | undefined, flow: Flow, raw: string): void {
    this.#deliver(checkMessage(message, flow, raw), flow);
  }

  #deliver(received: Received, flow: Flow): void {
    if (received.kind === 'message') this.emit('message', received.message, flow);
    else if (received.kind === 'malformed') this.emit('malformed', received.raw, flow);
  }
}

/** What the transport makes of text off the wire. */
export type Received = { kind: 'keepalive' } | { kind: 'message'; message: SipMessage } | { kind: 'malformed'; raw: string };

/**
 * Parses one datagram as the transport does. Pure (no sockets), so that the fuzz tests run the
 * very code that faces the network.
 */
export function readDatagram(text: string, from: Pick<Flow, 'address' | 'port'>): Received {
  if (/^\s*$/.test(text)) return { kind: 'keepalive' };
  let message: SipMessage | undefined;
  try {
    message = sip.parse(text);
  } catch {
    message = undefined;
  }
  return checkMessage(message, from, text);
}

/** Refuses what is not well formed, and notes on a request where it really came from. */
export function checkMessage(message: SipMessage | undefined, from: Pick<Flow, 'address' | 'port'>, raw: string): Received {
  if (!message || !isWellFormed(message)) return { kind: 'malformed', raw };
  if (message.method) {
    // RFC 3581: answer to where the request really came from.
    const via = message.headers.via[0];
    via.params = via.params ?? {};
    via.params.received = from.address;
    if (Object.hasOwn(via.params, 'rport')) via.params.rport = from.port;
  }
  return { kind: 'message', message };
}

/** The headers every SIP message must have (RFC 3261 §8.1.1), with usable shapes. */
export function isWellFormed(m: SipMessage): boolean {
  const h = m.headers;
  if (!h || !Array.isArray(h.via) || h.via.length === 0 || !h.via[0]?.host) return false;
  if (typeof h['call-id'] !== 'string' || h['call-id'].length === 0) return false;
  if (!h.to?.uri || !h.from?.uri) return false;
  if (!h.cseq || !Number.isInteger(h.cseq.seq) || typeof h.cseq.method !== 'string') return false;
  if (m.method) {
    if (!/^[A-Z]+$/.test(m.method) || typeof m.uri !== 'string' || !m.uri.startsWith('sip')) return false;
    if (h.cseq.method !== m.method && m.method !== 'ACK' && m.method !== 'CANCEL') return false;
  } else if (!(typeof m.status === 'number' && m.status >= 100 && m.status <= 699)) return false;
  return true;
}

/**
 * For a request the parser could not use, enough of the raw text to answer 400: the Via,
 * From, To, Call-ID and CSeq lines, copied as they are.
 */
export function badRequestFor(raw: string, reason: string): string | null {
  const lines = raw.split(/\r?\n/);
  if (!/^[A-Z]+ \S+ SIP\/2\.0$/.test(lines[0]?.trim() ?? '')) return null;
  const pick = (names: string[]) => lines.filter((l) => names.some((n) => l.toLowerCase().startsWith(`${n}:`)));
  const via = pick(['via', 'v']);
  const callId = pick(['call-id', 'i']);
  const from = pick(['from', 'f']);
  const to = pick(['to', 't']);
  const cseq = pick(['cseq']);
  if (via.length === 0 || callId.length === 0 || from.length === 0 || to.length === 0 || cseq.length === 0) return null;
  return [`SIP/2.0 400 ${reason}`, ...via, ...from, ...to, ...callId, ...cseq, 'Content-Length: 0', '', ''].join('\r\n');
}
