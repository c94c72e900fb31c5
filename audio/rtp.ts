/**
 * RTP packets (RFC 3550) for audio: parsing and building, the RFC 6464 client-to-mixer audio level
 * header extension (carried in RFC 8285 header extensions), and RFC 4733 DTMF telephone events.
 *
 * Parsing faces the network, so it returns null for anything malformed and never throws; building
 * faces our own code, so it throws RangeError on arguments that cannot be encoded.
 */

export interface RtpHeaderExtension {
  /** 0xBEDE for RFC 8285 one-byte elements, 0x100X for two-byte ones. */
  profile: number;
  data: Buffer;
}

export interface RtpPacket {
  version: number;
  padding: boolean;
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  extension?: RtpHeaderExtension;
  /** A view into the parsed buffer, padding excluded; copy it to keep it past the buffer's reuse. */
  payload: Buffer;
}

/** The SDP extmap URI of the RFC 6464 audio level extension. */
export const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

const HEADER_LENGTH = 12;
const ONE_BYTE_PROFILE = 0xbede;

export function parseRtp(buf: Uint8Array): RtpPacket | null {
  if (!(buf instanceof Uint8Array) || buf.length < HEADER_LENGTH) return null;
  const bytes = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const first = bytes[0]!;
  const version = first >> 6;
  if (version !== 2) return null;
  const padding = (first & 0x20) !== 0;
  const hasExtension = (first & 0x10) !== 0;
  const csrcCount = first & 0x0f;

  let offset = HEADER_LENGTH + 4 * csrcCount;
  if (offset > bytes.length) return null;
  const csrcs: number[] = [];
  for (let at = HEADER_LENGTH; at < offset; at += 4) csrcs.push(bytes.readUInt32BE(at));

  let extension: RtpHeaderExtension | undefined;
  if (hasExtension) {
    if (offset + 4 > bytes.length) return null;
    const profile = bytes.readUInt16BE(offset);
    const end = offset + 4 + 4 * bytes.readUInt16BE(offset + 2);
    if (end > bytes.length) return null;
    extension = { profile, data: bytes.subarray(offset + 4, end) };
    offset = end;
  }

  let payloadEnd = bytes.length;
  if (padding) {
    // The last byte counts the padding, itself included, so zero is invalid.
    const padLength = bytes[bytes.length - 1]!;
    if (padLength === 0 || offset + padLength > bytes.length) return null;
    payloadEnd -= padLength;
  }

  const packet: RtpPacket = {
    version,
    padding,
    marker: (bytes[1]! & 0x80) !== 0,
    payloadType: bytes[1]! & 0x7f,
    sequenceNumber: bytes.readUInt16BE(2),
    timestamp: bytes.readUInt32BE(4),
    ssrc: bytes.readUInt32BE(8),
    csrcs,
    payload: bytes.subarray(offset, payloadEnd),
  };
  if (extension) packet.extension = extension;
  return packet;
}

export interface BuildRtpOptions {
  payloadType: number;
  /** Taken modulo 2^16, so a counter can simply be incremented. */
  sequenceNumber: number;
  /** Taken modulo 2^32, so a counter can simply be incremented. */
  timestamp: number;
  ssrc: number;
  marker?: boolean;
  payload: Uint8Array;
  /** RFC 6464 level in -dBov, 0 (loudest) to 127 (silence); adds the header extension. */
  audioLevel?: number;
  /** RFC 6464 voice-activity flag sent with the level. */
  voiceActivity?: boolean;
  /** The id negotiated for AUDIO_LEVEL_URI in SDP (1–14). */
  audioLevelExtensionId?: number;
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`RTP ${name} must be an integer in ${min}..${max}, got ${value}`);
}

export function buildRtp(options: BuildRtpOptions): Buffer {
  const { payloadType, sequenceNumber, timestamp, ssrc, marker = false, payload, audioLevel, voiceActivity = false, audioLevelExtensionId = 1 } = options;
  checkInteger('payloadType', payloadType, 0, 127);
  checkInteger('ssrc', ssrc, 0, 0xffffffff);
  if (!Number.isSafeInteger(sequenceNumber)) throw new RangeError(`RTP sequenceNumber must be an integer, got ${sequenceNumber}`);
  if (!Number.isSafeInteger(timestamp)) throw new RangeError(`RTP timestamp must be an integer, got ${timestamp}`);
  const withLevel = audioLevel !== undefined;
  if (withLevel) {
    checkInteger('audioLevel', audioLevel, 0, 127);
    // 15 is reserved by RFC 8285 as "stop parsing" in the one-byte form.
    checkInteger('audioLevelExtensionId', audioLevelExtensionId, 1, 14);
  }

  const headerLength = HEADER_LENGTH + (withLevel ? 8 : 0);
  const packet = Buffer.alloc(headerLength + payload.length);
  packet[0] = 0x80 | (withLevel ? 0x10 : 0);
  packet[1] = (marker ? 0x80 : 0) | payloadType;
  packet.writeUInt16BE(sequenceNumber & 0xffff, 2);
  packet.writeUInt32BE(timestamp >>> 0, 4);
  packet.writeUInt32BE(ssrc, 8);
  if (withLevel) {
    packet.writeUInt16BE(ONE_BYTE_PROFILE, 12);
    packet.writeUInt16BE(1, 14);
    // One element with one data byte (length field 0), then two bytes of zero padding.
    packet[16] = audioLevelExtensionId << 4;
    packet[17] = (voiceActivity ? 0x80 : 0) | audioLevel;
  }
  packet.set(payload, headerLength);
  return packet;
}

/** Finds one RFC 8285 element's data in a header extension, in either the one- or two-byte form. */
function findExtensionElement(extension: RtpHeaderExtension, id: number): Buffer | null {
  const { data } = extension;
  const oneByte = extension.profile === ONE_BYTE_PROFILE;
  if (!oneByte && (extension.profile & 0xfff0) !== 0x1000) return null;
  let at = 0;
  while (at < data.length) {
    const head = data[at]!;
    // A zero byte is padding in both forms.
    if (head === 0) {
      at++;
      continue;
    }
    let elementId: number;
    let length: number;
    if (oneByte) {
      elementId = head >> 4;
      if (elementId === 15) return null;
      length = (head & 0x0f) + 1;
      at += 1;
    } else {
      if (at + 1 >= data.length) return null;
      elementId = head;
      length = data[at + 1]!;
      at += 2;
    }
    if (at + length > data.length) return null;
    if (elementId === id) return data.subarray(at, at + length);
    at += length;
  }
  return null;
}

/** The RFC 6464 audio level of a parsed packet, or null when it carries none under that id. */
export function readAudioLevel(packet: Pick<RtpPacket, 'extension'>, audioLevelExtensionId = 1): { level: number; voiceActivity: boolean } | null {
  if (!packet.extension) return null;
  const element = findExtensionElement(packet.extension, audioLevelExtensionId);
  if (!element || element.length < 1) return null;
  return { level: element[0]! & 0x7f, voiceActivity: (element[0]! & 0x80) !== 0 };
}

/**
 * RFC 6464 level of a frame: its RMS relative to the overload point, in -dBov, clamped to 0..127
 * and rounded as WebRTC does. A full-scale square wave is 0, a full-scale sine 3, digital silence 127.
 */
export function audioLevelDbov(samples: Int16Array): number {
  if (samples.length === 0) return 127;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  const meanSquare = sum / samples.length / (32768 * 32768);
  if (meanSquare === 0) return 127;
  const level = Math.round(-10 * Math.log10(meanSquare));
  return Math.min(127, Math.max(0, level));
}

export interface TelephoneEvent {
  /** 0–9, 10 = *, 11 = #, 12–15 = A–D for DTMF; other values are other RFC 4733 events. */
  event: number;
  /** Set on the (usually thrice repeated) final packets of an event. */
  end: boolean;
  /** Power level in -dBm0, 0–63. */
  volume: number;
  /** In RTP timestamp units since the event began. */
  duration: number;
}

/** Parses an RFC 4733 telephone-event payload; null when it is too short to be one. */
export function parseTelephoneEvent(payload: Uint8Array): TelephoneEvent | null {
  if (!(payload instanceof Uint8Array) || payload.length < 4) return null;
  return {
    event: payload[0]!,
    end: (payload[1]! & 0x80) !== 0,
    volume: payload[1]! & 0x3f,
    duration: (payload[2]! << 8) | payload[3]!,
  };
}

const DTMF_DIGITS = '0123456789*#ABCD';

/** The key of a DTMF event (RFC 4733 events 0–15), or null for any other event. */
export function dtmfDigit(event: number): string | null {
  return Number.isInteger(event) && event >= 0 && event < DTMF_DIGITS.length ? DTMF_DIGITS[event]! : null;
}
