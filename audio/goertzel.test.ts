import { describe, expect, it } from 'vitest';
import { rms, toneLevel } from './goertzel.ts';

function tone(length: number, sampleRate: number, parts: Array<[frequency: number, amplitude: number]>, phase = 0.3): Int16Array {
  return Int16Array.from({ length }, (_, n) => Math.round(parts.reduce((sum, [f, a]) => sum + a * 32767 * Math.sin((2 * Math.PI * f * n) / sampleRate + phase), 0)));
}

describe('toneLevel', () => {
  it('measures the amplitude of a tone as a fraction of full scale', () => {
    expect(toneLevel(tone(160, 8000, [[1000, 0.5]]), 8000, 1000)).toBeCloseTo(0.5, 2);
    expect(toneLevel(tone(960, 48000, [[1000, 1]]), 48000, 1000)).toBeCloseTo(1, 2);
    expect(toneLevel(tone(960, 48000, [[440, 0.01]]), 48000, 440)).toBeCloseTo(0.01, 3);
  });

  it('measures frequencies that fall between bins', () => {
    for (const f of [1234.5, 697, 1633, 3210]) {
      expect(toneLevel(tone(160, 8000, [[f, 0.25]], 1.1), 8000, f)).toBeCloseTo(0.25, 2);
    }
  });

  it('does not depend on the phase of the tone', () => {
    for (let phase = 0; phase < 2 * Math.PI; phase += 0.7) {
      expect(toneLevel(tone(160, 8000, [[800, 0.3]], phase), 8000, 800)).toBeCloseTo(0.3, 2);
    }
  });

  it('separates two tones in one 20 ms frame', () => {
    const mixed = tone(160, 8000, [
      [1000, 0.4],
      [1400, 0.1],
    ]);
    expect(toneLevel(mixed, 8000, 1000)).toBeCloseTo(0.4, 2);
    expect(toneLevel(mixed, 8000, 1400)).toBeCloseTo(0.1, 2);
    // A frequency 400 Hz from the loud tone reads as (nearly) nothing.
    expect(toneLevel(mixed, 8000, 600)).toBeLessThan(0.001);
    expect(toneLevel(mixed, 8000, 1800)).toBeLessThan(0.001);
  });

  it('reads silence and empty input as zero', () => {
    expect(toneLevel(new Int16Array(160), 8000, 1000)).toBe(0);
    expect(toneLevel(new Int16Array(0), 8000, 1000)).toBe(0);
    expect(toneLevel(new Int16Array([1000]), 8000, 1000)).toBe(0);
  });
});

describe('rms', () => {
  it('is 1/√2 for a full-scale sine and the magnitude for a constant', () => {
    expect(rms(tone(960, 48000, [[1000, 1]]))).toBeCloseTo(Math.SQRT1_2, 3);
    expect(rms(new Int16Array(100).fill(-16384))).toBe(0.5);
    expect(rms(new Int16Array(100).fill(-32768))).toBe(1);
  });

  it('is zero for silence and empty input', () => {
    expect(rms(new Int16Array(160))).toBe(0);
    expect(rms(new Int16Array(0))).toBe(0);
  });
});
