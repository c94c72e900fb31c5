// G.711 (ITU-T G.711) A-law and µ-law codecs for test tooling. Kept local to test/sip so the SIP
// test support has no dependency on the media code under test.

export type G711Codec = 'PCMA' | 'PCMU';

/** The static RTP payload type of each G.711 variant (RFC 3551). */
export const G711_PAYLOAD_TYPE: Record<G711Codec, number> = { PCMU: 0, PCMA: 8 };

/** The byte each codec uses for digital silence. */
export const G711_SILENCE: Record<G711Codec, number> = { PCMU: 0xff, PCMA: 0xd5 };

// Upper ends of the A-law segments, on the 13-bit magnitude.
const ALAW_SEG_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

function segment(value: number): number {
  for (let i = 0; i < ALAW_SEG_END.length; i++) if (value <= ALAW_SEG_END[i]!) return i;
  return ALAW_SEG_END.length;
}

/** Encodes one signed 16-bit sample as A-law. */
export function linearToAlaw(sample: number): number {
  let pcm = Math.max(-32768, Math.min(32767, Math.round(sample))) >> 3;
  let mask: number;
  if (pcm >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  const seg = segment(pcm);
  if (seg >= 8) return 0x7f ^ mask;
  let aval = seg << 4;
  aval |= seg < 2 ? (pcm >> 1) & 0x0f : (pcm >> seg) & 0x0f;
  return aval ^ mask;
}

/** Decodes one A-law byte to a signed 16-bit sample. */
export function alawToLinear(byte: number): number {
  const a = (byte ^ 0x55) & 0xff;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

const ULAW_BIAS = 0x84;
const ULAW_CLIP = 32635;

/** Encodes one signed 16-bit sample as µ-law. */
export function linearToUlaw(sample: number): number {
  let pcm = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = pcm < 0 ? 0x80 : 0;
  if (sign) pcm = -pcm;
  if (pcm > ULAW_CLIP) pcm = ULAW_CLIP;
  pcm += ULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (pcm & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (pcm >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** Decodes one µ-law byte to a signed 16-bit sample. */
export function ulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

export function encodeG711(pcm: ArrayLike<number>, codec: G711Codec): Buffer {
  const out = Buffer.alloc(pcm.length);
  const encode = codec === 'PCMA' ? linearToAlaw : linearToUlaw;
  for (let i = 0; i < pcm.length; i++) out[i] = encode(pcm[i]!);
  return out;
}

export function decodeG711(payload: Uint8Array, codec: G711Codec): Int16Array {
  const out = new Int16Array(payload.length);
  const decode = codec === 'PCMA' ? alawToLinear : ulawToLinear;
  for (let i = 0; i < payload.length; i++) out[i] = decode(payload[i]!);
  return out;
}
