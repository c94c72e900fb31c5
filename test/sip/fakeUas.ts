// A scripted SIP user agent server on 127.0.0.1 that stands in for the gateway in the tooling's own
// tests: answers INVITEs with an SDP answer, records ACK/INFO/BYE and the RTP it receives, and can
// send a BYE or a tone to a caller.

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import type { G711Codec } from './g711.ts';
import { buildRtpStream, type UdpPacket } from './pcap.ts';
import { header, headers, parseSipMessage, randomToken, type SipMessage, SipStreamFramer, sdpAudio, uriOf } from './sipMessage.ts';

export interface FakeUasOptions {
  /** SIP port on 127.0.0.1, UDP and TCP (default: a free one). */
  port?: number;
  /** Final status for an INVITE (default 200). */
  inviteStatus?: (invite: SipMessage) => number;
  /** Payload type of the SDP answer's codec (default the first of 8/0 the offer lists). */
  answerPayloadType?: number;
  /** Ring (100, 180) and give no final answer until a CANCEL comes. */
  ringOnly?: boolean;
  /** What a CANCEL of a ringing INVITE gets: 487 to the INVITE (default), or a 200 that crosses it. */
  onCancel?: 'terminate' | 'answer';
}

export interface FakeCall {
  callId: string;
  requestUri: string;
  transport: 'udp' | 'tcp';
  invite: SipMessage;
  /** Where the caller wants its RTP (its SDP offer). */
  remoteMedia?: { address: string; port: number };
  localTag: string;
  acked: boolean;
  ended: boolean;
  /** Signal= values of INFO application/dtmf-relay requests, in order. */
  infoDigits: string;
  reply(text: string): void;
}

export interface Received {
  transport: 'udp' | 'tcp';
  message: SipMessage;
  at: number;
}

export interface FakeUas {
  port: number;
  rtpPort: number;
  calls: Map<string, FakeCall>;
  received: Received[];
  /** RTP datagrams that arrived at rtpPort. */
  rtp: UdpPacket[];
  /** Resolves with the first received message (now or later) that matches, or rejects after timeoutMs. */
  waitFor(match: (r: Received) => boolean, timeoutMs?: number): Promise<Received>;
  /** Ends a call from this side with a BYE. */
  bye(callId: string): void;
  /** Sends a G.711 tone in 20 ms packets, in real time, to the caller's SDP address. */
  sendTone(callId: string, tone: { frequency: number; durationMs: number; codec: G711Codec; amplitude?: number }): Promise<void>;
  close(): Promise<void>;
}

function buildResponse(request: SipMessage, status: number, reason: string, extra: string[] = [], body = '', toTag?: string): string {
  let to = header(request, 'to') ?? '';
  if (toTag && !/;\s*tag=/i.test(to)) to += `;tag=${toTag}`;
  const lines = [
    `SIP/2.0 ${status} ${reason}`,
    ...headers(request, 'via').map((v) => `Via: ${v}`),
    `From: ${header(request, 'from') ?? ''}`,
    `To: ${to}`,
    `Call-ID: ${header(request, 'call-id') ?? ''}`,
    `CSeq: ${header(request, 'cseq') ?? ''}`,
    ...extra,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ];
  return lines.join('\r\n');
}

const REASONS: Record<number, string> = { 200: 'OK', 404: 'Not Found', 486: 'Busy Here', 487: 'Request Terminated', 503: 'Service Unavailable' };

export async function startFakeUas(options: FakeUasOptions = {}): Promise<FakeUas> {
  // UDP and TCP share the SIP port; a port free for UDP may be taken for TCP, so try a few.
  let udp!: UdpSocket;
  let tcp!: Server;
  for (let attempt = 0; ; attempt++) {
    udp = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    await new Promise<void>((r, j) => {
      udp.once('error', j);
      udp.bind(options.port ?? 0, '127.0.0.1', () => r());
    });
    tcp = createServer();
    try {
      await new Promise<void>((r, j) => {
        tcp.once('error', j);
        tcp.listen(udp.address().port, '127.0.0.1', () => r());
      });
      break;
    } catch (error) {
      udp.close();
      if (options.port !== undefined || attempt >= 5) throw error;
    }
  }
  const port = udp.address().port;
  const rtpSocket: UdpSocket = createSocket('udp4');
  await new Promise<void>((r, j) => {
    rtpSocket.once('error', j);
    rtpSocket.bind(0, '127.0.0.1', () => r());
  });
  const rtpPort = rtpSocket.address().port;
  const connections = new Set<TcpSocket>();

  const calls = new Map<string, FakeCall>();
  const received: Received[] = [];
  const rtp: UdpPacket[] = [];
  const waiters: { match: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let cseq = 100;

  rtpSocket.on('message', (payload, rinfo) => {
    rtp.push({ time: Date.now() / 1000, srcAddr: rinfo.address, dstAddr: '127.0.0.1', srcPort: rinfo.port, dstPort: rtpPort, payload });
  });

  /** The 200 to an INVITE, with an SDP answer on rtpPort. */
  const answer = (message: SipMessage, newCall: FakeCall, offer: ReturnType<typeof sdpAudio>, transport: 'udp' | 'tcp', reply: (text: string) => void) => {
  const pt = options.answerPayloadType ?? offer?.payloadTypes.find((p) => p === 8 || p === 0) ?? 8;
  const sdp = [
    'v=0',
    `o=fake 1 1 IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${rtpPort} RTP/AVP ${pt} 101`,
    `a=rtpmap:${pt} ${pt === 0 ? 'PCMU' : 'PCMA'}/8000`,
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=sendrecv',
    '',
  ].join('\r\n');
  reply(
    buildResponse(message, 200, 'OK', [`Contact: <sip:fake@127.0.0.1:${port};transport=${transport}>`, 'Content-Type: application/sdp'], sdp, newCall.localTag),
  );
  };

  const ringing = new Map<string, () => void>();

  const handle = (message: SipMessage, transport: 'udp' | 'tcp', reply: (text: string) => void) => {
    const entry = { transport, message, at: Date.now() };
    received.push(entry);
    for (const w of [...waiters]) {
      if (w.match(entry)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(entry);
      }
    }
    if (message.status !== undefined) return;
    const callId = header(message, 'call-id') ?? '';
    const call = calls.get(callId);
    switch (message.method) {
      case 'INVITE': {
        if (call) return; // a retransmission: the answer is on its way
        const offer = sdpAudio(message.body);
        const newCall: FakeCall = {
          callId,
          requestUri: message.uri ?? '',
          transport,
          invite: message,
          remoteMedia: offer ? { address: offer.address ?? '127.0.0.1', port: offer.port } : undefined,
          localTag: randomToken('uas'),
          acked: false,
          ended: false,
          infoDigits: '',
          reply,
        };
        calls.set(callId, newCall);
        reply(buildResponse(message, 100, 'Trying'));
        const status = options.inviteStatus?.(message) ?? 200;
        if (status !== 200) {
          newCall.ended = true;
          reply(buildResponse(message, status, REASONS[status] ?? 'Error', [], '', newCall.localTag));
          return;
        }
        if (options.ringOnly) {
          reply(buildResponse(message, 180, 'Ringing', [], '', newCall.localTag));
          ringing.set(callId, () => answer(message, newCall, offer, transport, reply));
          return;
        }
        answer(message, newCall, offer, transport, reply);
        return;
      }
      case 'ACK':
        if (call) call.acked = true;
        return;
      case 'INFO': {
        const signal = /^Signal\s*=\s*(\S)/im.exec(message.body)?.[1];
        if (call && signal) call.infoDigits += signal;
        reply(buildResponse(message, 200, 'OK'));
        return;
      }
      case 'BYE':
        if (call) call.ended = true;
        reply(buildResponse(message, call ? 200 : 481, call ? 'OK' : 'Call/Transaction Does Not Exist'));
        return;
      case 'CANCEL': {
        reply(buildResponse(message, 200, 'OK'));
        const ring = ringing.get(callId);
        if (!ring || !call) return;
        ringing.delete(callId);
        if (options.onCancel === 'answer') ring();
        else {
          call.ended = true;
          call.reply(buildResponse(call.invite, 487, 'Request Terminated', [], '', call.localTag));
        }
        return;
      }
      case 'OPTIONS':
        reply(buildResponse(message, 200, 'OK'));
        return;
      default:
        reply(buildResponse(message, 405, 'Method Not Allowed'));
    }
  };

  udp.on('message', (msg, rinfo) => {
    const message = parseSipMessage(msg.toString('utf8'));
    if (!message) return;
    handle(message, 'udp', (text) => udp.send(text, rinfo.port, rinfo.address));
  });
  tcp.on('connection', (socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    const framer = new SipStreamFramer();
    socket.on('data', (chunk: Buffer) => {
      for (const text of framer.push(chunk)) {
        const message = parseSipMessage(text);
        if (message) handle(message, 'tcp', (t) => socket.writable && socket.write(t));
      }
    });
  });

  return {
    port,
    rtpPort,
    calls,
    received,
    rtp,
    waitFor: (match, timeoutMs = 10_000) => {
      const found = received.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = {
          match,
          resolve: (r: Received) => {
            clearTimeout(timer);
            timers.delete(timer);
            resolve(r);
          },
        };
        const timer = setTimeout(() => {
          timers.delete(timer);
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error('fake UAS: no matching message in time'));
        }, timeoutMs);
        timers.add(timer);
        waiters.push(waiter);
      });
    },
    bye: (callId) => {
      const call = calls.get(callId);
      if (!call) throw new Error(`no call ${callId}`);
      const invite = call.invite;
      const target = uriOf(header(invite, 'contact')) ?? uriOf(header(invite, 'from'))!;
      const lines = [
        `BYE ${target} SIP/2.0`,
        `Via: SIP/2.0/${call.transport.toUpperCase()} 127.0.0.1:${port};branch=z9hG4bK${randomToken()};rport`,
        `From: ${header(invite, 'to')};tag=${call.localTag}`,
        `To: ${header(invite, 'from')}`,
        `Call-ID: ${call.callId}`,
        `CSeq: ${cseq++} BYE`,
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ];
      call.ended = true;
      call.reply(lines.join('\r\n'));
    },
    sendTone: async (callId, tone) => {
      const call = calls.get(callId);
      if (!call?.remoteMedia) throw new Error(`no media for call ${callId}`);
      const { address, port: mediaPort } = call.remoteMedia;
      const { packets } = buildRtpStream([{ type: 'tone', frequency: tone.frequency, durationMs: tone.durationMs, amplitude: tone.amplitude }], {
        codec: tone.codec,
      });
      const started = Date.now();
      for (let i = 0; i < packets.length; i++) {
        rtpSocket.send(packets[i]!.rtp, mediaPort, address);
        const due = started + (i + 1) * 20;
        await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
      }
    },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const s of connections) s.destroy();
      await new Promise<void>((r) => tcp.close(() => r()));
      await new Promise<void>((r) => udp.close(() => r()));
      await new Promise<void>((r) => rtpSocket.close(() => r()));
    },
  };
}
