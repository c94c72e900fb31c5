import { describe, expect, it } from 'vitest';
import { aLawToLinear, decodeALaw, decodeMuLaw, encodeALaw, encodeMuLaw, linearToALaw, linearToMuLaw, muLawToLinear } from './g711.ts';

// Straight transcriptions of the Sun/ITU reference g711.c (linear search over segment ends), used as
// an oracle for the bit-twiddling encoders over the whole Int16 range.
const MU_SEG_END = [0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff, 0x3fff, 0x7fff];
const A_SEG_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
const search = (value: number, table: number[]) => {
  const i = table.findIndex((end) => value <= end);
  return i < 0 ? table.length : i;
};

function referenceMuLaw(sample: number): number {
  let pcm = sample;
  let mask = 0xff;
  if (pcm < 0) {
    pcm = 0x84 - pcm;
    mask = 0x7f;
  } else {
    pcm += 0x84;
  }
  if (pcm > 32635) pcm = 32635;
  const seg = search(pcm, MU_SEG_END);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((pcm >> (seg + 3)) & 0xf)) ^ mask;
}

function referenceALaw(sample: number): number {
  let pcm = sample >> 3;
  let mask = 0xd5;
  if (pcm < 0) {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  const seg = search(pcm, A_SEG_END);
  if (seg >= 8) return 0x7f ^ mask;
  const aval = (seg << 4) | (seg < 2 ? (pcm >> 1) & 0xf : (pcm >> seg) & 0xf);
  return aval ^ mask;
}

const ALL_INT16 = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
const ALL_CODES = Uint8Array.from({ length: 256 }, (_, i) => i);

describe('µ-law (PCMU)', () => {
  it('encodes the reference vectors', () => {
    expect(linearToMuLaw(0)).toBe(0xff);
    expect(linearToMuLaw(-1)).toBe(0x7f);
    expect(linearToMuLaw(32767)).toBe(0x80);
    expect(linearToMuLaw(-32768)).toBe(0x00);
    expect(linearToMuLaw(32124)).toBe(0x80);
    expect(linearToMuLaw(-32124)).toBe(0x00);
  });

  it('decodes the reference vectors', () => {
    expect(muLawToLinear(0x80)).toBe(32124);
    expect(muLawToLinear(0x00)).toBe(-32124);
    expect(muLawToLinear(0xff)).toBe(0);
    expect(muLawToLinear(0x7f)).toBe(0);
    expect(muLawToLinear(0xfe)).toBe(8);
    expect(muLawToLinear(0x7e)).toBe(-8);
  });

  it('matches the reference encoder for every Int16 input', () => {
    const codes = encodeMuLaw(ALL_INT16);
    for (let i = 0; i < ALL_INT16.length; i++) {
      if (codes[i] !== referenceMuLaw(ALL_INT16[i]!)) throw new Error(`mismatch at ${ALL_INT16[i]}`);
    }
  });

  it('re-encodes every decoded code to itself, except negative zero', () => {
    const again = encodeMuLaw(decodeMuLaw(ALL_CODES));
    for (let code = 0; code < 256; code++) expect(again[code]).toBe(code === 0x7f ? 0xff : code);
  });

  it('decodes symmetrically around zero', () => {
    for (let code = 0; code < 128; code++) expect(muLawToLinear(code) + muLawToLinear(code | 0x80)).toBe(0);
  });

  it('keeps the round-trip error within half a quantisation step', () => {
    const back = decodeMuLaw(encodeMuLaw(ALL_INT16));
    let worst = 0;
    for (let i = 0; i < ALL_INT16.length; i++) {
      const x = ALL_INT16[i]!;
      const err = Math.abs(back[i]! - x);
      // Steps double per segment from 8 (segment 0) to 1024, about 1/16 of the magnitude; beyond
      // the largest code (±32124) the error is clipping.
      const bound = Math.abs(x) > 32124 ? Math.abs(x) - 32124 : 8 + Math.abs(x) / 32;
      if (err > bound) throw new Error(`error ${err} at ${x}`);
      worst = Math.max(worst, err);
    }
    expect(worst).toBeLessThanOrEqual(644);
  });

  it('clamps and truncates out-of-range single samples', () => {
    expect(linearToMuLaw(1e9)).toBe(0x80);
    expect(linearToMuLaw(-1e9)).toBe(0x00);
    expect(linearToMuLaw(0.9)).toBe(0xff);
    expect(muLawToLinear(0x180)).toBe(32124);
  });
});

describe('A-law (PCMA)', () => {
  it('encodes and decodes the reference vectors', () => {
    expect(linearToALaw(0)).toBe(0xd5);
    expect(linearToALaw(-1)).toBe(0x55);
    expect(linearToALaw(32767)).toBe(0xaa);
    expect(linearToALaw(-32768)).toBe(0x2a);
    expect(aLawToLinear(0xd5)).toBe(8);
    expect(aLawToLinear(0x55)).toBe(-8);
    expect(aLawToLinear(0xaa)).toBe(32256);
    expect(aLawToLinear(0x2a)).toBe(-32256);
  });

  it('matches the reference encoder for every Int16 input', () => {
    const codes = encodeALaw(ALL_INT16);
    for (let i = 0; i < ALL_INT16.length; i++) {
      if (codes[i] !== referenceALaw(ALL_INT16[i]!)) throw new Error(`mismatch at ${ALL_INT16[i]}`);
    }
  });

  it('re-encodes every decoded code to itself', () => {
    expect(Array.from(encodeALaw(decodeALaw(ALL_CODES)))).toEqual(Array.from(ALL_CODES));
  });

  it('decodes symmetrically around zero', () => {
    for (let code = 0; code < 128; code++) expect(aLawToLinear(code) + aLawToLinear(code | 0x80)).toBe(0);
  });

  it('keeps the round-trip error within half a quantisation step', () => {
    const back = decodeALaw(encodeALaw(ALL_INT16));
    for (let i = 0; i < ALL_INT16.length; i++) {
      const x = ALL_INT16[i]!;
      const err = Math.abs(back[i]! - x);
      // Steps are 16 in segments 0 and 1, then at most 1/16 of the magnitude; clipping beyond ±32256.
      const bound = Math.abs(x) > 32256 ? Math.abs(x) - 32256 : 8 + Math.abs(x) / 32;
      if (err > bound) throw new Error(`error ${err} at ${x}`);
    }
  });
});

describe('companding a tone', () => {
  it('gives the ~38 dB signal-to-quantisation-noise ratio G.711 is known for', () => {
    const pcm = Int16Array.from({ length: 8000 }, (_, n) => Math.round(16000 * Math.sin((2 * Math.PI * 1004 * n) / 8000)));
    for (const [encode, decode] of [
      [encodeMuLaw, decodeMuLaw],
      [encodeALaw, decodeALaw],
    ] as const) {
      const back = decode(encode(pcm));
      let signal = 0;
      let noise = 0;
      for (let i = 0; i < pcm.length; i++) {
        signal += pcm[i]! ** 2;
        noise += (back[i]! - pcm[i]!) ** 2;
      }
      const snr = 10 * Math.log10(signal / noise);
      expect(snr).toBeGreaterThan(35);
      expect(snr).toBeLessThan(42);
    }
  });
});
