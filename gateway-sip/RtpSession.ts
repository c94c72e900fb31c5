import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { BlockList, isIPv4 } from 'node:net';
import opus from '@discordjs/opus';

const { OpusEncoder } = opus;
type OpusEncoder = InstanceType<typeof OpusEncoder>;
import { decodeALaw, decodeMuLaw } from '../audio/g711.ts';
import { audioLevelDbov, buildRtp, dtmfDigit, parseRtp, parseTelephoneEvent } from '../audio/rtp.ts';
import { Reframer } from './Reframer.ts';
import type { Negotiated } from './sdp.ts';

/** The payload type and header extension id the gateway's Opus producer declares. */
export const OPUS_PT = 100;
export const AUDIO_LEVEL_EXT_ID = 1;

/** How long after the SDP named a private address the first packet's source may be latched. */
export const LATCH_WINDOW_MS = 5000;

// Addresses a phone behind NAT puts in its SDP although nobody can reach them from here.
const PRIVATE = new BlockList();
PRIVATE.addSubnet('10.0.0.0', 8);
PRIVATE.addSubnet('172.16.0.0', 12);
PRIVATE.addSubnet('192.168.0.0', 16);
PRIVATE.addSubnet('100.64.0.0', 10);
PRIVATE.addSubnet('169.254.0.0', 16);
PRIVATE.addAddress('0.0.0.0');

export interface RtpSessionEvents {
  dtmf: [string];
}

/**
 * One call's media on the gateway. Towards the phone: one UDP port (the one in our SDP). The
 * caller's G.711, in whatever packet time the phone sends (10 to 40 ms), is decoded, resampled
 * to 48 kHz, cut into 20 ms frames and encoded to Opus for the media node, where it is an
 * ordinary producer; the mixer's mix-minus for the caller arrives on a second port and
 * is relayed to the phone from the first, so the phone sees one peer. DTMF is picked out.
 *
 * Media is taken only from where the SDP said the phone sends: its address and port, or, when
 * that address is private (the phone is behind NAT), from the first source seen in the first
 * seconds, latched once and never moved. A stranger who sends RTP to our port is ignored: it
 * neither reaches the meeting nor diverts the meeting's audio to itself. The mix port likewise
 * takes packets only from the media node's mixer.
 */
export class RtpSession extends EventEmitter<RtpSessionEvents> {
  readonly #phone = dgram.createSocket('udp4');
  readonly #mix = dgram.createSocket('udp4');
  #remote: { address: string; port: number } = { address: '0.0.0.0', port: 9 };
  /** Whether the remote is settled: named by a public SDP address, or latched. */
  #fixed = false;
  #latchUntil = 0;
  #toMedia?: { ip: string; port: number };
  #mixFrom?: { address?: string; port: number };
  readonly #ssrc = (Math.random() * 0xffffffff) >>> 0;
  #seq = Math.floor(Math.random() * 65535);
  readonly #timestamp = (Math.random() * 0xffffffff) >>> 0;
  /** G.711 in the phone's packet time, out as 20 ms frames. */
  readonly #reframer = new Reframer(this.#timestamp);
  /** Opus passes through in the phone's own framing: its timestamps, moved onto our stream. */
  #opusOffset?: number;
  #encoder?: OpusEncoder;
  #lastDtmfTimestamp = -1;
  lastReceivedAt = Date.now();
  packetsIn = 0;
  packetsOut = 0;

  readonly negotiated: Negotiated;
  private readonly listenIp: string;
  constructor(negotiated: Negotiated, listenIp: string) {
    super();
    this.negotiated = negotiated;
    this.listenIp = listenIp;
    this.updateRemote(negotiated.remote);
    // An ICMP error for an earlier send surfaces as a socket error: nothing to do but go on.
    for (const socket of [this.#phone, this.#mix]) socket.on('error', () => undefined);
    this.#phone.on('message', (packet, rinfo) => this.#fromPhone(packet, rinfo));
    this.#mix.on('message', (packet, rinfo) => {
      if (!this.#fromMixer(rinfo)) return;
      if (this.#toPhone(packet)) this.packetsOut++;
    });
  }

  get ssrc(): number {
    return this.#ssrc;
  }

  #ports = { phonePort: 0, mixPort: 0 };

  async open(): Promise<{ phonePort: number; mixPort: number }> {
    // A failed bind reports only through 'error' (swallowed above): reject, or the call would
    // wait for its ports forever.
    const bind = (socket: dgram.Socket) =>
      new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, this.listenIp, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    await Promise.all([bind(this.#phone), bind(this.#mix)]);
    this.#ports = { phonePort: this.#phone.address().port, mixPort: this.#mix.address().port };
    return this.#ports;
  }

  /** The port in our SDP, and the one the mixer sends the caller's mix-minus to. */
  get ports(): { phonePort: number; mixPort: number } {
    return this.#ports;
  }

  /**
   * From now on the caller's voice goes to the media node's plain transport, and the mix-minus
   * is taken only from `mixFrom` (the node's mixer socket; its address latched on first use).
   */
  connectMedia(target: { ip: string; port: number }, mixFrom?: { port: number }): void {
    this.#toMedia = target;
    this.#mixFrom = mixFrom ? { port: mixFrom.port } : undefined;
  }

  /** The SDP (first offer or answer, or an authenticated re-INVITE) says where the phone is. */
  updateRemote(remote: { address: string; port: number }): void {
    this.#remote = { ...remote };
    this.#fixed = !isIPv4(remote.address) || !PRIVATE.check(remote.address, 'ipv4');
    this.#latchUntil = Date.now() + LATCH_WINDOW_MS;
  }

  /** Where the phone's media goes now. */
  get remote(): { address: string; port: number } {
    return { ...this.#remote };
  }

  close(): void {
    for (const socket of [this.#phone, this.#mix]) {
      try {
        socket.close();
      } catch {
        // already closed
      }
    }
  }

  #fromPhone(packet: Buffer, rinfo: dgram.RemoteInfo): void {
    const rtp = parseRtp(packet);
    if (!rtp || !this.#fromRemote(rinfo)) return;
    this.lastReceivedAt = Date.now();
    this.packetsIn++;
    const { negotiated } = this;
    if (negotiated.telephoneEvent !== undefined && rtp.payloadType === negotiated.telephoneEvent) {
      const event = parseTelephoneEvent(rtp.payload);
      // Each event ends with (usually three) end packets sharing one timestamp.
      if (event?.end && rtp.timestamp !== this.#lastDtmfTimestamp) {
        this.#lastDtmfTimestamp = rtp.timestamp;
        const digit = dtmfDigit(event.event);
        if (digit) this.emit('dtmf', digit);
      }
      return;
    }
    if (rtp.payloadType !== negotiated.payloadType || !this.#toMedia) return;
    const target = this.#toMedia;
    if (negotiated.codec === 'opus') {
      // Its level is unknown without decoding, so none is sent.
      this.#opusOffset ??= (this.#timestamp - rtp.timestamp) >>> 0;
      this.#send(rtp.payload, (rtp.timestamp + this.#opusOffset) >>> 0, undefined, target);
      return;
    }
    const pcm8 = negotiated.codec === 'PCMU' ? decodeMuLaw(rtp.payload) : decodeALaw(rtp.payload);
    for (const frame of this.#reframer.push(rtp.timestamp, pcm8)) {
      this.#encoder ??= new OpusEncoder(48000, 1);
      const { samples } = frame;
      const payload = this.#encoder.encode(Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
      this.#send(payload, frame.timestamp, audioLevelDbov(samples), target);
    }
  }

  #send(payload: Buffer, timestamp: number, level: number | undefined, target: { ip: string; port: number }): void {
    const out = buildRtp({
      payloadType: OPUS_PT,
      sequenceNumber: this.#seq,
      timestamp,
      ssrc: this.#ssrc,
      payload,
      audioLevel: level,
      audioLevelExtensionId: AUDIO_LEVEL_EXT_ID,
    });
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#phone.send(out, target.port, target.ip, ignore);
  }

  #fromRemote(rinfo: dgram.RemoteInfo): boolean {
    if (rinfo.address === this.#remote.address && rinfo.port === this.#remote.port) return true;
    if (this.#fixed || Date.now() > this.#latchUntil) return false;
    // Symmetric RTP behind NAT: answer where the phone really sends from, once.
    this.#remote = { address: rinfo.address, port: rinfo.port };
    this.#fixed = true;
    return true;
  }

  #fromMixer(rinfo: dgram.RemoteInfo): boolean {
    const from = this.#mixFrom;
    if (!from || rinfo.port !== from.port) return false;
    from.address ??= rinfo.address;
    return rinfo.address === from.address;
  }

  #toPhone(packet: Buffer): boolean {
    const { address, port } = this.#remote;
    // 0.0.0.0 is a phone on hold (and a send to it would reach this very host).
    if (address === '0.0.0.0' || port < 1 || port > 65535) return false;
    this.#phone.send(packet, port, address, ignore);
    return true;
  }
}

function ignore(): void {
  // A lost datagram is RTP's normal; the socket's error listener covers the rest.
}
