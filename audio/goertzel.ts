/**
 * Level measurements on Int16 PCM, normalised to full scale (32768) so results do not depend on
 * the sample format: a full-scale sine has toneLevel ≈ 1 and rms ≈ 0.707.
 */

const FULL_SCALE = 32768;

/**
 * Amplitude of the `frequency` component of `samples`, as a fraction of full scale (Goertzel).
 *
 * The samples are Hann-windowed: a 20 ms frame has a 50 Hz bin, and without a window a loud tone a
 * few hundred hertz away would leak into the measured one through the rectangular window's
 * sidelobes, which defeats telling two callers' tones apart. The frequency need not fall on a bin.
 */
export function toneLevel(samples: Int16Array, sampleRate: number, frequency: number): number {
  const n = samples.length;
  if (n === 0) return 0;
  const omega = (2 * Math.PI * frequency) / sampleRate;
  const coeff = 2 * Math.cos(omega);
  const windowStep = (2 * Math.PI) / n;
  let s1 = 0;
  let s2 = 0;
  let windowSum = 0;
  for (let i = 0; i < n; i++) {
    // Periodic Hann: the window sums to exactly n/2, and n = 1 still gives a usable (zero) result.
    const w = 0.5 - 0.5 * Math.cos(windowStep * i);
    windowSum += w;
    const s0 = w * samples[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  if (windowSum === 0) return 0;
  const re = s1 - s2 * Math.cos(omega);
  const im = s2 * Math.sin(omega);
  return (2 * Math.sqrt(re * re + im * im)) / windowSum / FULL_SCALE;
}

/** Root-mean-square level as a fraction of full scale; 0 for an empty frame. */
export function rms(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / samples.length) / FULL_SCALE;
}
