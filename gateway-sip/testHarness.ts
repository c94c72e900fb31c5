// A real gateway (transport, transactions, dialogs, RTP) over fake meeting services, for the
// gateway's own tests: no media node, no Redis, SIP on a free loopback port.

import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import pino from 'pino';
import type { EventBus } from '../common/bus/EventBus.ts';
import { AppError } from '../common/errors.ts';
import { Gateway, type GatewayOptions } from './Gateway.ts';
import { SipServer } from './SipServer.ts';
import { SipTransport } from './SipTransport.ts';
import type { GatewayServices } from './MeetingLeg.ts';
import { TrunkAuth } from './TrunkAuth.ts';

export interface HarnessOptions {
  allowedIps?: string;
  digestUsers?: string;
  gateway?: Partial<GatewayOptions>;
  /** SIP timer T1 (Timer B is 64 of it). */
  t1?: number;
  maxTransactions?: number;
}

export interface Harness {
  port: number;
  gateway: Gateway;
  /** PIN → meeting id of the fake meetings. */
  pins: Map<string, string>;
  ended: Set<string>;
  joins: string[];
  /** Media-node calls the gateway made, in order. */
  mediaCalls: Array<{ method: string; args: Record<string, unknown> }>;
  /** Sends one RTP packet, as the media node's mixer would, to every call's mix port. */
  mixToCallers(): void;
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const pins = new Map<string, string>([['123456789', 'meetingA'], ['987654321', 'meetingB']]);
  const ended = new Set<string>();
  const joins: string[] = [];
  const mediaCalls: Harness['mediaCalls'] = [];
  const leg = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => leg.bind(0, '127.0.0.1', () => resolve()));
  const services = {
    meetings: {
      get: async (id: string) => {
        if (![...pins.values()].includes(id)) throw new AppError('meeting_not_found', `meeting ${id} does not exist`);
        if (ended.has(id)) throw new AppError('meeting_ended', `meeting ${id} has ended`);
        return { id, settings: { maxParticipants: 100, locked: false } };
      },
    },
    repo: {
      meetingIdForPin: async (pin: string) => pins.get(pin) ?? null,
      getParticipant: async () => ({ mediaNodeId: 'node1' }),
    },
    seats: {
      mediaNodeFor: async (meetingId: string) => {
        if (ended.has(meetingId)) throw new AppError('meeting_ended', 'ended');
        return 'node1';
      },
      join: async (claims: { mid: string }) => {
        joins.push(claims.mid);
      },
      leave: async () => undefined,
    },
    media: {
      call: async (_node: string, method: string, args: Record<string, unknown>) => {
        mediaCalls.push({ method, args });
        if (method === 'getRouterRtpCapabilities') return { rtpCapabilities: {} };
        if (method === 'createPhoneLeg') return { transportId: `t${mediaCalls.length}`, ip: '127.0.0.1', port: leg.address().port, payloadType: 8, mixFrom: { port: leg.address().port } };
        return {};
      },
    },
    publications: { publish: async () => undefined },
  } as unknown as GatewayServices;
  const bus = { subscribe: async () => async () => undefined, publish: async () => undefined } as unknown as EventBus;
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  // UDP and TCP on one port: a port free for UDP may be taken for TCP, so try a few.
  let transport = new SipTransport();
  for (let attempt = 0; ; attempt++) {
    try {
      await transport.listen(0, '127.0.0.1');
      break;
    } catch (error) {
      await transport.close();
      if (attempt >= 5) throw error;
      transport = new SipTransport();
    }
  }
  const { port } = transport;
  const gateway = new Gateway(
    services,
    bus,
    new TrunkAuth(options.allowedIps ?? '127.0.0.1', options.digestUsers ?? '', 'convene'),
    {
      nodeId: 'gw-test',
      listenIp: '127.0.0.1',
      sipPort: port,
      rtpTimeoutMs: 60_000,
      maxCalls: 500,
      inviteRate: 10_000,
      ivrTries: 3,
      maxCallsPerTrunk: 100,
      maxCallsPerMeeting: 50,
      pinGuesses: 10,
      dialAllowlist: '127.0.0.1',
      dialRate: 100,
      dialTimeoutMs: 60_000,
      ...options.gateway,
    },
    logger,
  );
  gateway.attach(new SipServer(transport, gateway, logger, { t1: options.t1, maxTransactions: options.maxTransactions }));
  return {
    port,
    gateway,
    pins,
    ended,
    joins,
    mediaCalls,
    mixToCallers: () => {
      const packet = Buffer.alloc(172);
      packet[0] = 0x80;
      packet[1] = 8;
      for (const call of gateway.calls.values()) {
        const port = call.rtp.ports.mixPort;
        if (port) leg.send(packet, port, '127.0.0.1');
      }
    },
    close: async () => {
      await gateway.close();
      await transport.close();
      leg.close();
    },
  };
}

export interface Sent {
  callId: string;
  fromTag: string;
  branch: string;
}

/** A raw SIP phone on a loopback address: sends text, collects what comes back. */
export class RawPhone {
  readonly socket = dgram.createSocket('udp4');
  readonly received: string[] = [];
  #waiters: Array<{ match: (m: string) => boolean; resolve: (m: string) => void }> = [];
  readonly address: string;
  private readonly target: number;

  constructor(target: number, address = '127.0.0.1') {
    this.target = target;
    this.address = address;
    this.socket.on('message', (data) => {
      const text = data.toString('binary');
      this.received.push(text);
      for (const w of [...this.#waiters]) {
        if (w.match(text)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(text);
        }
      }
    });
  }

  async open(): Promise<this> {
    await new Promise<void>((resolve) => this.socket.bind(0, this.address, () => resolve()));
    return this;
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(text: string): void {
    this.socket.send(Buffer.from(text, 'binary'), this.target, '127.0.0.1');
  }

  /** The next message (from now on, or already received if `past`) that matches. */
  next(match: (m: string) => boolean, timeoutMs = 2000): Promise<string | null> {
    return new Promise((resolve) => {
      const waiter = {
        match,
        resolve: (m: string) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        resolve(null);
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** Sends a request and resolves with its final response (or null). */
  async request(text: string, timeoutMs = 2000): Promise<string | null> {
    const branch = /branch=([^;\s]+)/.exec(text)?.[1] ?? '';
    const answer = this.next((m) => /^SIP\/2\.0 [2-6]\d\d /.test(m) && m.includes(branch), timeoutMs);
    this.send(text);
    return answer;
  }

  close(): void {
    this.socket.close();
  }
}

export function token(): string {
  return randomBytes(6).toString('hex');
}

export function offerSdp(port: number, address = '127.0.0.1'): string {
  return ['v=0', `o=phone 1 1 IN IP4 ${address}`, 's=-', `c=IN IP4 ${address}`, 't=0 0', `m=audio ${port} RTP/AVP 8 0 101`, 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', ''].join('\r\n');
}

/** A request from `phone` to the gateway; `extra` lines go before Content-Length. */
export function sipRequest(
  phone: RawPhone,
  method: string,
  options: { uri?: string; callId: string; fromTag: string; toTag?: string; cseq?: number; cseqMethod?: string; branch?: string; extra?: string[]; body?: string },
): string {
  const body = options.body ?? '';
  const uri = options.uri ?? 'sip:123456789@127.0.0.1';
  return [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${phone.address}:${phone.port};branch=${options.branch ?? `z9hG4bK${token()}`};rport`,
    'Max-Forwards: 70',
    `From: <sip:+15550100@${phone.address}>;tag=${options.fromTag}`,
    `To: <${uri}>${options.toTag ? `;tag=${options.toTag}` : ''}`,
    `Call-ID: ${options.callId}`,
    `CSeq: ${options.cseq ?? 1} ${options.cseqMethod ?? method}`,
    `Contact: <sip:phone@${phone.address}:${phone.port}>`,
    ...(options.extra ?? []),
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

export function toTagOf(response: string): string | undefined {
  return /^To:.*;tag=([^;\s]+)/im.exec(response)?.[1];
}

/** Dials in with a PIN and ACKs the 200: the established call's identifiers. */
export async function establish(phone: RawPhone, options: { pin?: string; mediaPort?: number; extra?: string[] } = {}): Promise<{ callId: string; fromTag: string; toTag: string; ok: string }> {
  const callId = `${token()}@test`;
  const fromTag = token();
  const uri = `sip:${options.pin ?? '123456789'}@127.0.0.1`;
  const ok = await phone.request(sipRequest(phone, 'INVITE', { uri, callId, fromTag, body: offerSdp(options.mediaPort ?? 40000), extra: options.extra }));
  if (!ok?.startsWith('SIP/2.0 200')) throw new Error(`call not answered: ${ok}`);
  const toTag = toTagOf(ok)!;
  phone.send(sipRequest(phone, 'ACK', { uri, callId, fromTag, toTag }));
  return { callId, fromTag, toTag, ok };
}
