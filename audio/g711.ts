/**
 * ITU-T G.711 companding: µ-law (PCMU, RTP payload type 0) and A-law (PCMA, payload type 8)
 * between 16-bit linear PCM and 8-bit codes. Bit-exact with the ITU/Sun reference g711.c.
 */

const MULAW_BIAS = 0x84;
// Clipping before the bias keeps the biased value inside segment 7.
const MULAW_CLIP = 32635;

function clampInt16(sample: number): number {
  // `|| 0` turns NaN into silence rather than an arbitrary code.
  return Math.min(32767, Math.max(-32768, Math.trunc(sample) || 0));
}

/** Encodes one linear sample (clamped to the Int16 range) as a µ-law code. */
export function linearToMuLaw(sample: number): number {
  let pcm = clampInt16(sample);
  let mask: number;
  if (pcm < 0) {
    // The reference maps -1 to 0x7F (negative zero), not 0xFF; we keep that for bit-exactness.
    pcm = MULAW_BIAS - pcm;
    mask = 0x7f;
  } else {
    pcm += MULAW_BIAS;
    mask = 0xff;
  }
  if (pcm > MULAW_CLIP) pcm = MULAW_CLIP;
  // The segment is the position of the top bit above bit 7; the bias guarantees bit 7 or higher is set.
  const seg = 24 - Math.clz32(pcm);
  return (((seg << 4) | ((pcm >> (seg + 3)) & 0x0f)) ^ mask) & 0xff;
}

/** Encodes one linear sample (clamped to the Int16 range) as an A-law code. */
export function linearToALaw(sample: number): number {
  // A-law works on 13 bits.
  let pcm = clampInt16(sample) >> 3;
  let mask: number;
  if (pcm >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  // Segments 0 and 1 share a step size; above that the segment is the top bit's position minus 4.
  const top = 31 - Math.clz32(pcm);
  const seg = top > 4 ? top - 4 : 0;
  const quant = seg < 2 ? (pcm >> 1) & 0x0f : (pcm >> seg) & 0x0f;
  return ((seg << 4) | quant) ^ mask;
}

function muLawReference(code: number): number {
  const u = ~code & 0xff;
  const t = (((u & 0x0f) << 3) + MULAW_BIAS) << ((u & 0x70) >> 4);
  return u & 0x80 ? MULAW_BIAS - t : t - MULAW_BIAS;
}

function aLawReference(code: number): number {
  const a = (code ^ 0x55) & 0xff;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

const MULAW_DECODE = Int16Array.from({ length: 256 }, (_, code) => muLawReference(code));
const ALAW_DECODE = Int16Array.from({ length: 256 }, (_, code) => aLawReference(code));

/** Decodes one µ-law code (0–255) to a linear sample. Both 0x7F and 0xFF decode to 0. */
export function muLawToLinear(code: number): number {
  return MULAW_DECODE[code & 0xff]!;
}

/** Decodes one A-law code (0–255) to a linear sample. */
export function aLawToLinear(code: number): number {
  return ALAW_DECODE[code & 0xff]!;
}

export function encodeMuLaw(pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = linearToMuLaw(pcm[i]!);
  return out;
}

export function decodeMuLaw(codes: Uint8Array): Int16Array {
  const out = new Int16Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = MULAW_DECODE[codes[i]!]!;
  return out;
}

export function encodeALaw(pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = linearToALaw(pcm[i]!);
  return out;
}

export function decodeALaw(codes: Uint8Array): Int16Array {
  const out = new Int16Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = ALAW_DECODE[codes[i]!]!;
  return out;
}
