// Classic libpcap files for SIP end-to-end tests: writes RTP streams (G.711 tones, RFC 4733 DTMF)
// that sipp's play_pcap_audio can replay, and reads captures written by `tcpdump -w`.
//
// sipp (src/prepare_pcap.c) only accepts DLT_EN10MB (1) and DLT_LINUX_SLL (113) captures of
// UDP/IPv4 or UDP/IPv6 packets, so the writer emits Ethernet frames. sipp keeps each packet's UDP
// payload (the RTP header included) byte for byte and replaces only the ports: a packet leaves from
// the -mp port plus (its UDP destination port - the lowest destination port in the file) to the
// port in the peer's SDP plus that same difference. One destination port for every packet therefore
// means "from -mp to the SDP port". Packets leave as far apart as their pcap timestamps.

import { readFileSync, writeFileSync } from 'node:fs';
import { G711_PAYLOAD_TYPE, G711_SILENCE, type G711Codec, encodeG711 } from './g711.ts';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

export const SAMPLE_RATE = 8000;
export const DTMF_PAYLOAD_TYPE = 101;
/** RFC 4733 event codes, in the order of their numbers. */
export const DTMF_EVENTS = '0123456789*#ABCD';

/** One UDP datagram from a capture. `time` is seconds since the epoch (fractional). */
export interface UdpPacket {
  time: number;
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

export interface RtpPacket {
  version: number;
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

/** Where an RTP stream stands after a pcap: pass it as `continueFrom` to carry on the same stream. */
export interface RtpStreamState {
  ssrc: number;
  /** The next sequence number. */
  seq: number;
  /** The next RTP timestamp (8 kHz clock). */
  timestamp: number;
  /** The pcap time, in microseconds since the epoch, of the next packet. */
  timeUs: number;
}

export type RtpSegment =
  /** A sine tone (or the sum of several) at `amplitude` (16-bit peak, default 8000, split evenly over the tones). */
  | { type: 'tone'; frequency: number | number[]; durationMs: number; amplitude?: number }
  /** G.711 packets of digital silence: keeps an RTP-timeout clock happy without audible signal. */
  | { type: 'silence'; durationMs: number }
  /** No packets at all for a while (the stream clock still advances). */
  | { type: 'gap'; durationMs: number }
  /** One RFC 4733 event: updates every packet interval, then the end packet three times. */
  | { type: 'dtmf'; digit: string; durationMs?: number; volume?: number };

export interface RtpPcapOptions {
  codec?: G711Codec;
  /** Milliseconds of audio per packet (default 20). */
  ptimeMs?: number;
  dtmfPayloadType?: number;
  ssrc?: number;
  startSeq?: number;
  startTimestamp?: number;
  /** pcap time of the first packet in microseconds since the epoch (default: now). */
  startTimeUs?: number;
  /** Carries on a stream written before: same SSRC, next sequence number, timestamp and time. */
  continueFrom?: RtpStreamState;
  /** UDP ports written in the file; sipp replaces them (see the top of this file). */
  srcPort?: number;
  dstPort?: number;
}

export interface RtpPcapResult {
  packets: number;
  /** Time from the first packet to the end of the last packet's audio. */
  durationMs: number;
  state: RtpStreamState;
}

export interface TimedRtp {
  timeUs: number;
  rtp: Buffer;
}

function randomUint32(): number {
  return Math.floor(Math.random() * 0x1_0000_0000) >>> 0;
}

export function encodeRtp(p: Omit<RtpPacket, 'version'>): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  header.writeUInt16BE(p.sequenceNumber & 0xffff, 2);
  header.writeUInt32BE(p.timestamp >>> 0, 4);
  header.writeUInt32BE(p.ssrc >>> 0, 8);
  return Buffer.concat([header, p.payload]);
}

/** Parses an RTP packet; null when the datagram is not RTP version 2 (RTCP is not filtered out). */
export function parseRtp(data: Buffer): RtpPacket | null {
  if (data.length < 12 || data[0]! >> 6 !== 2) return null;
  const csrcCount = data[0]! & 0x0f;
  let offset = 12 + 4 * csrcCount;
  if (data[0]! & 0x10) {
    if (data.length < offset + 4) return null;
    offset += 4 + 4 * data.readUInt16BE(offset + 2);
  }
  let end = data.length;
  if (data[0]! & 0x20) end -= data[data.length - 1]!;
  if (offset > end) return null;
  return {
    version: 2,
    marker: (data[1]! & 0x80) !== 0,
    payloadType: data[1]! & 0x7f,
    sequenceNumber: data.readUInt16BE(2),
    timestamp: data.readUInt32BE(4),
    ssrc: data.readUInt32BE(8),
    payload: data.subarray(offset, end),
  };
}

/** Builds the RTP packets of a stream made of segments, each with its send time. */
export function buildRtpStream(segments: RtpSegment[], options: RtpPcapOptions = {}): { packets: TimedRtp[]; state: RtpStreamState } {
  const codec = options.codec ?? 'PCMA';
  const ptimeMs = options.ptimeMs ?? 20;
  const samplesPerPacket = (SAMPLE_RATE * ptimeMs) / 1000;
  if (!Number.isInteger(samplesPerPacket) || samplesPerPacket <= 0) throw new Error(`bad ptime ${ptimeMs}`);
  const dtmfPt = options.dtmfPayloadType ?? DTMF_PAYLOAD_TYPE;
  const from = options.continueFrom;
  const ssrc = from?.ssrc ?? options.ssrc ?? randomUint32();
  let seq = from?.seq ?? options.startSeq ?? Math.floor(Math.random() * 0x8000);
  let timestamp = from?.timestamp ?? options.startTimestamp ?? Math.floor(Math.random() * 0x1000_0000);
  let timeUs = from?.timeUs ?? options.startTimeUs ?? Date.now() * 1000;
  // The first audio packet of a talkspurt carries the marker bit (RFC 3551 section 4.1).
  let talkspurt = true;
  const packets: TimedRtp[] = [];
  const tick = () => {
    timeUs += ptimeMs * 1000;
    timestamp = (timestamp + samplesPerPacket) >>> 0;
  };
  const push = (payloadType: number, marker: boolean, ts: number, payload: Buffer) => {
    packets.push({ timeUs, rtp: encodeRtp({ marker, payloadType, sequenceNumber: seq, timestamp: ts, ssrc, payload }) });
    seq = (seq + 1) & 0xffff;
  };
  const count = (durationMs: number) => Math.max(0, Math.round(durationMs / ptimeMs));

  for (const segment of segments) {
    switch (segment.type) {
      case 'tone': {
        const freqs = Array.isArray(segment.frequency) ? segment.frequency : [segment.frequency];
        const peak = (segment.amplitude ?? 8000) / Math.max(1, freqs.length);
        const n = count(segment.durationMs);
        const pcm = new Float64Array(samplesPerPacket);
        for (let p = 0; p < n; p++) {
          for (let i = 0; i < samplesPerPacket; i++) {
            const t = (p * samplesPerPacket + i) / SAMPLE_RATE;
            let v = 0;
            for (const f of freqs) v += peak * Math.sin(2 * Math.PI * f * t);
            pcm[i] = v;
          }
          push(G711_PAYLOAD_TYPE[codec], talkspurt, timestamp, encodeG711(pcm, codec));
          talkspurt = false;
          tick();
        }
        break;
      }
      case 'silence': {
        const n = count(segment.durationMs);
        for (let p = 0; p < n; p++) {
          push(G711_PAYLOAD_TYPE[codec], talkspurt, timestamp, Buffer.alloc(samplesPerPacket, G711_SILENCE[codec]));
          talkspurt = false;
          tick();
        }
        break;
      }
      case 'gap': {
        for (let p = count(segment.durationMs); p > 0; p--) tick();
        talkspurt = true;
        break;
      }
      case 'dtmf': {
        const event = DTMF_EVENTS.indexOf(segment.digit.toUpperCase());
        if (event < 0 || segment.digit.length !== 1) throw new Error(`not a DTMF digit: ${JSON.stringify(segment.digit)}`);
        const n = Math.max(1, count(segment.durationMs ?? 100));
        const volume = segment.volume ?? 10;
        const start = timestamp;
        const body = (end: boolean, duration: number) => {
          const b = Buffer.alloc(4);
          b[0] = event;
          b[1] = (end ? 0x80 : 0) | (volume & 0x3f);
          b.writeUInt16BE(Math.min(0xffff, duration), 2);
          return b;
        };
        // Every update carries the event's start timestamp and the duration so far; the final
        // packet (E bit) goes three times (RFC 4733 section 2.5.1.4), each with its own sequence number.
        for (let p = 1; p <= n; p++) {
          push(dtmfPt, p === 1, start, body(p === n, p * samplesPerPacket));
          tick();
        }
        for (let r = 0; r < 2; r++) {
          push(dtmfPt, false, start, body(true, n * samplesPerPacket));
          tick();
        }
        talkspurt = true;
        break;
      }
    }
  }
  return { packets, state: { ssrc, seq, timestamp, timeUs } };
}

function ipChecksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An Ethernet/IPv4/UDP frame (zero MACs, 127.0.0.1 to 127.0.0.1, no UDP checksum). */
export function udpFrame(payload: Buffer, srcPort: number, dstPort: number, ipId = 0): Buffer {
  const frame = Buffer.alloc(14 + 20 + 8 + payload.length);
  frame.writeUInt16BE(0x0800, 12);
  const ip = frame.subarray(14, 34);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip.writeUInt16BE(ipId & 0xffff, 4);
  ip.writeUInt16BE(0x4000, 6); // don't fragment
  ip[8] = 64;
  ip[9] = 17;
  Buffer.from([127, 0, 0, 1]).copy(ip, 12);
  Buffer.from([127, 0, 0, 1]).copy(ip, 16);
  ip.writeUInt16BE(ipChecksum(ip), 10);
  frame.writeUInt16BE(srcPort, 34);
  frame.writeUInt16BE(dstPort, 36);
  frame.writeUInt16BE(8 + payload.length, 38);
  payload.copy(frame, 42);
  return frame;
}

/** A classic little-endian microsecond pcap file of the given frames. */
export function encodePcap(frames: { timeUs: number; data: Buffer }[], linkType = LINKTYPE_ETHERNET): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeInt32LE(0, 8);
  header.writeUInt32LE(0, 12);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(linkType, 20);
  const parts: Buffer[] = [header];
  for (const f of frames) {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(f.timeUs / 1e6), 0);
    rec.writeUInt32LE(Math.floor(f.timeUs % 1e6), 4);
    rec.writeUInt32LE(f.data.length, 8);
    rec.writeUInt32LE(f.data.length, 12);
    parts.push(rec, f.data);
  }
  return Buffer.concat(parts);
}

/** Writes an RTP stream made of segments as a pcap sipp can play with play_pcap_audio. */
export function writeRtpPcap(path: string, segments: RtpSegment[], options: RtpPcapOptions = {}): RtpPcapResult {
  const { packets, state } = buildRtpStream(segments, options);
  const srcPort = options.srcPort ?? 6000;
  const dstPort = options.dstPort ?? 6000;
  const frames = packets.map((p, i) => ({ timeUs: p.timeUs, data: udpFrame(p.rtp, srcPort, dstPort, i) }));
  writeFileSync(path, encodePcap(frames));
  const first = packets[0]?.timeUs ?? state.timeUs;
  return { packets: packets.length, durationMs: (state.timeUs - first) / 1000, state };
}

export interface TonePcapOptions extends Omit<RtpPcapOptions, 'codec'> {
  frequency: number | number[];
  durationMs: number;
  codec: G711Codec;
  /** 16-bit peak amplitude (default 8000, about -12 dBFS). */
  amplitude?: number;
}

/** Writes `durationMs` of a pure tone as 20 ms G.711 RTP packets. */
export function writeTonePcap(path: string, options: TonePcapOptions): RtpPcapResult {
  const { frequency, durationMs, amplitude, ...rest } = options;
  return writeRtpPcap(path, [{ type: 'tone', frequency, durationMs, amplitude }], rest);
}

export interface DtmfPcapOptions extends RtpPcapOptions {
  /** Length of each digit's event (default 100 ms). */
  toneMs?: number;
  /** Audio between digits (default 100 ms); the three end packets come on top of the event. */
  gapMs?: number;
  /** Audio before the first digit (default 200 ms) and after the last (default 200 ms). */
  leadInMs?: number;
  tailMs?: number;
  /** What fills the time between digits: G.711 silence packets (default) or nothing at all. */
  fill?: 'silence' | 'none';
  /** How long a ',' in `digits` waits (default 1000 ms). */
  pauseMs?: number;
  volume?: number;
}

/**
 * Writes RFC 4733 DTMF for `digits` (0-9 * # A-D; ',' pauses) as one continuous RTP stream: one SSRC,
 * consecutive sequence numbers, a fresh timestamp per event, G.711 silence between events.
 */
export function writeDtmfPcap(path: string, digits: string, options: DtmfPcapOptions = {}): RtpPcapResult {
  return writeRtpPcap(path, dtmfSegments(digits, options), options);
}

export function dtmfSegments(digits: string, options: DtmfPcapOptions = {}): RtpSegment[] {
  const fillType = options.fill === 'none' ? 'gap' : 'silence';
  const fill = (durationMs: number): RtpSegment[] => (durationMs > 0 ? [{ type: fillType, durationMs }] : []);
  const segments: RtpSegment[] = [...fill(options.leadInMs ?? 200)];
  [...digits].forEach((digit, i) => {
    if (i > 0) segments.push(...fill(options.gapMs ?? 100));
    if (digit === ',') segments.push(...fill(options.pauseMs ?? 1000));
    else segments.push({ type: 'dtmf', digit, durationMs: options.toneMs ?? 100, volume: options.volume });
  });
  segments.push(...fill(options.tailMs ?? 200));
  return segments;
}

function ipv4(buf: Buffer, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

function ipv6(buf: Buffer, offset: number): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(buf.readUInt16BE(offset + i).toString(16));
  return words.join(':');
}

/** The UDP datagram in an IP packet, or null (not UDP, a later fragment, truncated). */
function parseIpUdp(data: Buffer, time: number): UdpPacket | null {
  if (data.length < 1) return null;
  const version = data[0]! >> 4;
  let udpOffset: number;
  let srcAddr: string;
  let dstAddr: string;
  let end: number;
  if (version === 4) {
    if (data.length < 20 || data[9] !== 17) return null;
    if ((data.readUInt16BE(6) & 0x1fff) !== 0) return null;
    udpOffset = (data[0]! & 0x0f) * 4;
    srcAddr = ipv4(data, 12);
    dstAddr = ipv4(data, 16);
    end = Math.min(data.length, data.readUInt16BE(2));
  } else if (version === 6) {
    if (data.length < 40 || data[6] !== 17) return null;
    udpOffset = 40;
    srcAddr = ipv6(data, 8);
    dstAddr = ipv6(data, 24);
    end = Math.min(data.length, 40 + data.readUInt16BE(4));
  } else {
    return null;
  }
  if (end < udpOffset + 8) return null;
  const udpLength = data.readUInt16BE(udpOffset + 4);
  return {
    time,
    srcAddr,
    dstAddr,
    srcPort: data.readUInt16BE(udpOffset),
    dstPort: data.readUInt16BE(udpOffset + 2),
    payload: Buffer.from(data.subarray(udpOffset + 8, Math.min(end, udpOffset + udpLength))),
  };
}

/** The network-layer packet inside a link-layer frame, or null when it is not IP. */
function stripLinkLayer(frame: Buffer, linkType: number, littleEndian: boolean): Buffer | null {
  switch (linkType) {
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (frame.length < 4) return null;
      // DLT_NULL holds the address family in the capturing host's byte order, DLT_LOOP in network order.
      const family = linkType === LINKTYPE_NULL && littleEndian ? frame.readUInt32LE(0) : frame.readUInt32BE(0);
      return family === 2 || family === 10 || family === 24 || family === 28 || family === 30 ? frame.subarray(4) : null;
    }
    case LINKTYPE_ETHERNET: {
      let offset = 12;
      let type = frame.readUInt16BE(offset);
      while (type === 0x8100 || type === 0x88a8) {
        offset += 4;
        type = frame.readUInt16BE(offset);
      }
      return type === 0x0800 || type === 0x86dd ? frame.subarray(offset + 2) : null;
    }
    case LINKTYPE_LINUX_SLL: {
      const type = frame.readUInt16BE(14);
      return type === 0x0800 || type === 0x86dd ? frame.subarray(16) : null;
    }
    case LINKTYPE_LINUX_SLL2: {
      const type = frame.readUInt16BE(0);
      return type === 0x0800 || type === 0x86dd ? frame.subarray(20) : null;
    }
    case LINKTYPE_RAW:
    case 12:
    case 14:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return frame;
    default:
      throw new Error(`unsupported pcap link type ${linkType}`);
  }
}

export interface PcapFile {
  linkType: number;
  records: { time: number; data: Buffer }[];
}

/** Reads a classic pcap file (either byte order, microsecond or nanosecond timestamps). */
export function parsePcap(file: Buffer): PcapFile {
  if (file.length < 24) throw new Error('pcap file too short');
  const magicLE = file.readUInt32LE(0);
  let littleEndian: boolean;
  let nano: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) {
    littleEndian = true;
    nano = magicLE === 0xa1b23c4d;
  } else if (file.readUInt32BE(0) === 0xa1b2c3d4 || file.readUInt32BE(0) === 0xa1b23c4d) {
    littleEndian = false;
    nano = file.readUInt32BE(0) === 0xa1b23c4d;
  } else if (magicLE === 0x0a0d0d0a) {
    throw new Error('pcapng is not supported: capture with tcpdump -w (classic pcap)');
  } else {
    throw new Error(`not a pcap file (magic ${magicLE.toString(16)})`);
  }
  const u32 = (o: number) => (littleEndian ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const linkType = u32(20) & 0x0fff_ffff;
  const records: PcapFile['records'] = [];
  let offset = 24;
  // A capture cut short (tcpdump killed mid-write) ends in a partial record: stop before it.
  while (offset + 16 <= file.length) {
    const caplen = u32(offset + 8);
    if (offset + 16 + caplen > file.length) break;
    const time = u32(offset) + u32(offset + 4) / (nano ? 1e9 : 1e6);
    records.push({ time, data: file.subarray(offset + 16, offset + 16 + caplen) });
    offset += 16 + caplen;
  }
  return { linkType, records };
}

/** The UDP datagrams of a pcap file (as tcpdump -w writes on lo, any, or an Ethernet interface). */
export function parsePcapUdp(file: Buffer): UdpPacket[] {
  const { linkType, records } = parsePcap(file);
  const littleEndian = file.readUInt32LE(0) === 0xa1b2c3d4 || file.readUInt32LE(0) === 0xa1b23c4d;
  const out: UdpPacket[] = [];
  for (const r of records) {
    const ip = stripLinkLayer(r.data, linkType, littleEndian);
    const udp = ip && parseIpUdp(ip, r.time);
    if (udp) out.push(udp);
  }
  return out;
}

/** The UDP datagrams (RTP or otherwise) of a capture file; see parsePcapUdp. */
export function readPcapRtp(path: string): UdpPacket[] {
  return parsePcapUdp(readFileSync(path));
}
