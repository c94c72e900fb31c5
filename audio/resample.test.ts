import { describe, expect, it } from 'vitest';
import { rms, toneLevel } from './goertzel.ts';
import { Downsampler48to8, Upsampler8to48 } from './resample.ts';

function sine(length: number, sampleRate: number, frequency: number, amplitude: number): Int16Array {
  return Int16Array.from({ length }, (_, n) => Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * frequency * n) / sampleRate)));
}

function inFrames(resampler: { process(frame: Int16Array): Int16Array }, signal: Int16Array, frameLength: number | (() => number)): Int16Array {
  const parts: Int16Array[] = [];
  for (let at = 0; at < signal.length; ) {
    const length = typeof frameLength === 'number' ? frameLength : frameLength();
    parts.push(resampler.process(signal.subarray(at, at + length)));
    at += length;
  }
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function largestStep(samples: Int16Array): number {
  let largest = 0;
  for (let i = 1; i < samples.length; i++) largest = Math.max(largest, Math.abs(samples[i]! - samples[i - 1]!));
  return largest;
}

const db = (ratio: number) => 20 * Math.log10(ratio);

/** The frequency, on a 25 Hz grid, with the highest level. */
function peakFrequency(samples: Int16Array, sampleRate: number, maxFrequency: number): number {
  let best = 0;
  let bestLevel = -1;
  for (let f = 100; f <= maxFrequency; f += 25) {
    const level = toneLevel(samples, sampleRate, f);
    if (level > bestLevel) {
      bestLevel = level;
      best = f;
    }
  }
  return best;
}

/** A seeded generator, so failures reproduce. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('Downsampler48to8', () => {
  it('turns 20 ms frames of 960 samples into 160', () => {
    const down = new Downsampler48to8();
    for (let i = 0; i < 3; i++) expect(down.process(new Int16Array(960)).length).toBe(160);
    expect(down.process(new Int16Array(0)).length).toBe(0);
  });

  it('keeps a 1 kHz tone at its level and frequency', () => {
    const down = new Downsampler48to8();
    const out = inFrames(down, sine(48000, 48000, 1000, 0.5), 960);
    const lastFrame = out.subarray(out.length - 160);
    expect(Math.abs(db(toneLevel(lastFrame, 8000, 1000) / 0.5))).toBeLessThan(1);
    expect(peakFrequency(lastFrame, 8000, 3900)).toBe(1000);
  });

  it('passes the telephony band nearly flat', () => {
    for (const f of [300, 2000, 3000, 3400]) {
      const out = new Downsampler48to8().process(sine(9600, 48000, f, 0.5));
      expect(Math.abs(db(toneLevel(out.subarray(out.length - 800), 8000, f) / 0.5))).toBeLessThan(0.5);
    }
  });

  it('removes a 6 kHz tone instead of aliasing it to 2 kHz', () => {
    const input = sine(9600, 48000, 6000, 0.5);
    const out = new Downsampler48to8().process(input);
    const steady = out.subarray(Downsampler48to8.delay * 2);
    expect(db(rms(steady) / rms(input))).toBeLessThan(-30);
    expect(db(toneLevel(steady, 8000, 2000) / 0.5)).toBeLessThan(-50);
  });

  it('removes everything from 4 kHz up', () => {
    for (const f of [4100, 5000, 7900, 12000, 20000]) {
      const input = sine(9600, 48000, f, 0.5);
      const out = new Downsampler48to8().process(input);
      expect(db(rms(out.subarray(Downsampler48to8.delay * 2)) / rms(input))).toBeLessThan(-50);
    }
  });

  it('gives the same result frame by frame as in one go, for any frame sizes', () => {
    const random = lcg(1);
    const noise = Int16Array.from({ length: 48000 }, () => Math.round((random() * 2 - 1) * 20000));
    const whole = new Downsampler48to8().process(noise);
    expect(whole.length).toBe(8000);
    expect(inFrames(new Downsampler48to8(), noise, 960)).toEqual(whole);
    expect(inFrames(new Downsampler48to8(), noise, () => Math.floor(random() * 1500))).toEqual(whole);
    expect(inFrames(new Downsampler48to8(), noise, 7)).toEqual(whole);
  });

  it('has no clicks at frame boundaries', () => {
    const out = inFrames(new Downsampler48to8(), sine(48000, 48000, 1000, 0.9), 960).subarray(100);
    // A 1 kHz sine at 8 kHz moves at most 2·sin(π/8)·A between samples.
    const maxStep = 2 * Math.sin(Math.PI / 8) * 0.9 * 32767;
    expect(largestStep(out)).toBeLessThan(maxStep * 1.02);
  });

  it('starts again from silence after reset', () => {
    const down = new Downsampler48to8();
    down.process(sine(960, 48000, 1000, 1));
    down.reset();
    expect(down.process(new Int16Array(960))).toEqual(new Int16Array(160));
  });
});

describe('Upsampler8to48', () => {
  it('turns 20 ms frames of 160 samples into 960', () => {
    const up = new Upsampler8to48();
    for (let i = 0; i < 3; i++) expect(up.process(new Int16Array(160)).length).toBe(960);
    expect(up.process(new Int16Array(1)).length).toBe(6);
  });

  it('keeps a 1 kHz tone at its level and frequency', () => {
    const out = inFrames(new Upsampler8to48(), sine(8000, 8000, 1000, 0.5), 160);
    const lastFrame = out.subarray(out.length - 960);
    expect(Math.abs(db(toneLevel(lastFrame, 48000, 1000) / 0.5))).toBeLessThan(1);
    expect(peakFrequency(lastFrame, 48000, 23900)).toBe(1000);
  });

  it('suppresses the images of the 8 kHz spectrum', () => {
    const out = new Upsampler8to48().process(sine(1600, 8000, 1000, 0.5));
    const steady = out.subarray(Upsampler8to48.delay * 2);
    for (const image of [7000, 9000, 15000, 17000, 23000]) expect(db(toneLevel(steady, 48000, image) / 0.5)).toBeLessThan(-50);
    // All that is left besides the tone is rounding.
    expect(db(rms(steady) / (0.5 * Math.SQRT1_2))).toBeCloseTo(0, 1);
  });

  it('gives the same result frame by frame as in one go, for any frame sizes', () => {
    const random = lcg(2);
    const noise = Int16Array.from({ length: 8000 }, () => Math.round((random() * 2 - 1) * 20000));
    const whole = new Upsampler8to48().process(noise);
    expect(inFrames(new Upsampler8to48(), noise, 160)).toEqual(whole);
    expect(inFrames(new Upsampler8to48(), noise, () => Math.floor(random() * 300))).toEqual(whole);
  });

  it('has no clicks at frame boundaries', () => {
    const out = inFrames(new Upsampler8to48(), sine(8000, 8000, 1000, 0.9), 160).subarray(600);
    const maxStep = 2 * Math.sin(Math.PI / 48) * 0.9 * 32767;
    expect(largestStep(out)).toBeLessThan(maxStep * 1.02);
  });

  it('clamps overshoot instead of wrapping around', () => {
    const square = Int16Array.from({ length: 1600 }, (_, n) => (Math.floor(n / 20) % 2 ? -32768 : 32767));
    const out = new Upsampler8to48().process(square);
    for (let n = 400; n < 1600 - Upsampler8to48.delay / 6; n++) {
      // Well inside each half period the output has the input's sign.
      if (n % 20 >= 5 && n % 20 < 15) expect(Math.sign(out[n * 6 + Upsampler8to48.delay]!)).toBe(Math.sign(square[n]!));
    }
  });
});

describe('8 kHz → 48 kHz → 8 kHz', () => {
  it('gives back the input, delayed by both filters', () => {
    const input = sine(8000, 8000, 1000, 0.5);
    const back = inFrames(new Downsampler48to8(), inFrames(new Upsampler8to48(), input, 160), 960);
    const delay = Upsampler8to48.delay / 6 + Downsampler48to8.delay;
    let worst = 0;
    for (let n = 1000; n < input.length; n++) worst = Math.max(worst, Math.abs(back[n]! - input[n - delay]!));
    expect(worst).toBeLessThan(20);
  });
});
