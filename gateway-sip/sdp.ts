import net from 'node:net';
import * as sdpLib from 'sip/sdp.js';
import { validPort } from './sipValidate.ts';

export type PhoneCodec = 'PCMU' | 'PCMA' | 'opus';

export interface AudioOffer {
  address: string;
  port: number;
  /** Codecs in the offerer's order of preference, with their payload types. */
  codecs: Array<{ name: PhoneCodec; payloadType: number }>;
  telephoneEvent?: number;
}

export interface Negotiated {
  codec: PhoneCodec;
  payloadType: number;
  telephoneEvent?: number;
  remote: { address: string; port: number };
}

const STATIC: Record<number, PhoneCodec> = { 0: 'PCMU', 8: 'PCMA' };

/** The audio stream of an SDP offer or answer, or null if there is none usable. */
export function parseAudio(text: string): AudioOffer | null {
  let sdp: sdpLib.Sdp;
  try {
    sdp = sdpLib.parse(text.replace(/\r?\n/g, '\r\n'));
  } catch {
    return null;
  }
  if (!Array.isArray(sdp.m)) return null;
  const audio = sdp.m.find((m) => m?.media === 'audio' && m.port !== 0);
  const address = audio?.c?.address ?? sdp.c?.address;
  // Where our RTP will go: a real port, and an IPv4 address (the gateway's RTP is IPv4).
  if (!audio || !validPort(audio.port) || typeof address !== 'string' || !net.isIPv4(address)) return null;
  // Multicast and broadcast would spray a call's audio; 0.0.0.0 is hold (RFC 2543) and is kept.
  const first = Number(address.split('.')[0]);
  if (first >= 224) return null;
  if (!Array.isArray(audio.fmt) || !Array.isArray(audio.a ?? [])) return null;
  const rtpmap = new Map<number, string>();
  for (const a of audio.a ?? []) {
    if (typeof a !== 'string') continue;
    const m = /^rtpmap:(\d+) ([^/]+)\/(\d+)/i.exec(a);
    if (m) rtpmap.set(Number(m[1]), `${m[2]}/${m[3]}`.toLowerCase());
  }
  const codecs: AudioOffer['codecs'] = [];
  let telephoneEvent: number | undefined;
  for (const pt of audio.fmt) {
    if (!Number.isInteger(pt) || pt < 0 || pt > 127) continue;
    const name = rtpmap.get(pt);
    if (name?.startsWith('telephone-event/8000')) telephoneEvent = pt;
    else if (name === 'pcmu/8000' || (!name && STATIC[pt] === 'PCMU')) codecs.push({ name: 'PCMU', payloadType: pt });
    else if (name === 'pcma/8000' || (!name && STATIC[pt] === 'PCMA')) codecs.push({ name: 'PCMA', payloadType: pt });
    else if (name === 'opus/48000') codecs.push({ name: 'opus', payloadType: pt });
  }
  return { address, port: audio.port, codecs, telephoneEvent };
}

/** Picks the offerer's most preferred codec that we speak. */
export function negotiate(offer: AudioOffer): Negotiated | null {
  const first = offer.codecs[0];
  if (!first) return null;
  return { codec: first.name, payloadType: first.payloadType, telephoneEvent: offer.telephoneEvent, remote: { address: offer.address, port: offer.port } };
}

const RTPMAP: Record<PhoneCodec, string> = { PCMU: 'PCMU/8000', PCMA: 'PCMA/8000', opus: 'opus/48000/2' };

/** An answer (or, with several codecs, an offer) for one audio stream on our RTP address. */
export function buildSdp(options: { address: string; port: number; codecs: Array<{ name: PhoneCodec; payloadType: number }>; telephoneEvent?: number; sessionId: string }): string {
  const fmts = [...options.codecs.map((c) => c.payloadType), ...(options.telephoneEvent === undefined ? [] : [options.telephoneEvent])];
  const lines = [
    'v=0',
    `o=convene ${options.sessionId} ${options.sessionId} IN IP4 ${options.address}`,
    's=Convene',
    `c=IN IP4 ${options.address}`,
    't=0 0',
    `m=audio ${options.port} RTP/AVP ${fmts.join(' ')}`,
    ...options.codecs.map((c) => `a=rtpmap:${c.payloadType} ${RTPMAP[c.name]}`),
    ...(options.telephoneEvent === undefined ? [] : [`a=rtpmap:${options.telephoneEvent} telephone-event/8000`, `a=fmtp:${options.telephoneEvent} 0-16`]),
    'a=ptime:20',
    'a=sendrecv',
  ];
  return `${lines.join('\r\n')}\r\n`;
}
