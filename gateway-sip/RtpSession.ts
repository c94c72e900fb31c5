import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import opus from '@discordjs/opus';

const { OpusEncoder } = opus;
type OpusEncoder = InstanceType<typeof OpusEncoder>;
import { decodeALaw, decodeMuLaw } from '../media/audio/g711.ts';
import { Upsampler8to48 } from '../media/audio/resample.ts';
import { audioLevelDbov, buildRtp, dtmfDigit, parseRtp, parseTelephoneEvent } from '../media/audio/rtp.ts';
import type { Negotiated } from './sdp.ts';

/** The payload type and header extension id the gateway's Opus producer declares. */
export const OPUS_PT = 100;
export const AUDIO_LEVEL_EXT_ID = 1;

export interface RtpSessionEvents {
  dtmf: [string];
}

/**
 * One call's media on the gateway. Towards the phone: one UDP port (the one in our SDP). The
 * caller's G.711 is decoded, resampled to 48 kHz and encoded to Opus for the media node, where
 * it is an ordinary producer; the mixer's mix-minus for the caller arrives on a second port and
 * is relayed to the phone from the first, so the phone sees one peer. DTMF is picked out.
 */
export class RtpSession extends EventEmitter<RtpSessionEvents> {
  readonly #phone = dgram.createSocket('udp4');
  readonly #mix = dgram.createSocket('udp4');
  #remote: { address: string; port: number };
  #toMedia?: { ip: string; port: number };
  readonly #ssrc = (Math.random() * 0xffffffff) >>> 0;
  #seq = Math.floor(Math.random() * 65535);
  #timestamp = (Math.random() * 0xffffffff) >>> 0;
  readonly #upsampler = new Upsampler8to48();
  #encoder?: OpusEncoder;
  #lastDtmfTimestamp = -1;
  lastReceivedAt = Date.now();
  packetsIn = 0;
  packetsOut = 0;

  readonly negotiated: Negotiated;
  private readonly listenIp: string;
  constructor(
    negotiated: Negotiated,
    listenIp: string) {
    super();
    this.negotiated = negotiated;
    this.listenIp = listenIp;
    this.#remote = { ...negotiated.remote };
    this.#phone.on('message', (packet, rinfo) => this.#fromPhone(packet, rinfo));
    this.#mix.on('message', (packet) => {
      this.#phone.send(packet, this.#remote.port, this.#remote.address);
      this.packetsOut++;
    });
  }

  get ssrc(): number {
    return this.#ssrc;
  }

  #ports = { phonePort: 0, mixPort: 0 };

  async open(): Promise<{ phonePort: number; mixPort: number }> {
    await Promise.all([
      new Promise<void>((resolve) => this.#phone.bind(0, this.listenIp, () => resolve())),
      new Promise<void>((resolve) => this.#mix.bind(0, this.listenIp, () => resolve())),
    ]);
    this.#ports = { phonePort: this.#phone.address().port, mixPort: this.#mix.address().port };
    return this.#ports;
  }

  /** The port in our SDP, and the one the mixer sends the caller's mix-minus to. */
  get ports(): { phonePort: number; mixPort: number } {
    return this.#ports;
  }

  /** From now on the caller's voice goes to the media node's plain transport. */
  connectMedia(target: { ip: string; port: number }): void {
    this.#toMedia = target;
  }

  /** A re-INVITE may move the phone's media. */
  updateRemote(remote: { address: string; port: number }): void {
    this.#remote = { ...remote };
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
    if (!rtp) return;
    this.lastReceivedAt = Date.now();
    this.packetsIn++;
    // Symmetric RTP: answer where the phone really sends from (NAT).
    this.#remote = { address: rinfo.address, port: rinfo.port };
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
    let payload: Buffer;
    // Opus passes through untouched; its level is unknown without decoding, so none is sent.
    let level: number | undefined;
    if (negotiated.codec === 'opus') {
      payload = rtp.payload;
    } else {
      const pcm8 = negotiated.codec === 'PCMU' ? decodeMuLaw(rtp.payload) : decodeALaw(rtp.payload);
      const pcm48 = this.#upsampler.process(pcm8);
      level = audioLevelDbov(pcm48);
      this.#encoder ??= new OpusEncoder(48000, 1);
      payload = this.#encoder.encode(Buffer.from(pcm48.buffer, pcm48.byteOffset, pcm48.byteLength));
    }
    const out = buildRtp({
      payloadType: OPUS_PT,
      sequenceNumber: this.#seq,
      timestamp: this.#timestamp,
      ssrc: this.#ssrc,
      payload,
      audioLevel: level,
      audioLevelExtensionId: AUDIO_LEVEL_EXT_ID,
    });
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#timestamp = (this.#timestamp + 960) >>> 0;
    this.#phone.send(out, this.#toMedia.port, this.#toMedia.ip);
  }
}
