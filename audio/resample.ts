/**
 * 48 kHz ↔ 8 kHz conversion (factor 6) for mono Int16 audio arriving in frames, typically 20 ms
 * (960 ↔ 160 samples). Both directions share one linear-phase low-pass FIR and run it polyphase,
 * so only the samples that are kept (down) or non-zero (up) are multiplied. Filter state carries
 * over between frames, so a stream cut into frames comes out exactly as if processed in one go.
 */

const FACTOR = 6;

// 289 taps with a 3.65 kHz cutoff and a Kaiser window (β 5.65): flat to within 0.15 dB up to
// 3.4 kHz (the telephony band) and at least 59 dB down from 4 kHz, so what would alias into an
// 8 kHz stream, or image out of it, is inaudible under G.711's own ~38 dB noise floor.
const TAP_COUNT = 289;
const CUTOFF_HZ = 3650;
const KAISER_BETA = 5.65;

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 64; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return sum;
}

function lowPass(): Float64Array {
  const taps = new Float64Array(TAP_COUNT);
  const middle = (TAP_COUNT - 1) / 2;
  const fc = CUTOFF_HZ / 48000;
  let sum = 0;
  for (let n = 0; n < TAP_COUNT; n++) {
    const m = n - middle;
    const sinc = m === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * m) / (Math.PI * m);
    const r = m / middle;
    taps[n] = (sinc * besselI0(KAISER_BETA * Math.sqrt(1 - r * r))) / besselI0(KAISER_BETA);
    sum += taps[n]!;
  }
  // Unity gain at DC.
  for (let n = 0; n < TAP_COUNT; n++) taps[n]! /= sum;
  return taps;
}

const TAPS = lowPass();

// Upsampling is zero-stuffing then filtering; output phase p only ever meets taps p, p+6, p+12…,
// scaled by the factor to make up for the five zeros in every six samples.
const PHASE_LENGTH = Math.ceil(TAP_COUNT / FACTOR);
const PHASES = (() => {
  const phases = new Float64Array(FACTOR * PHASE_LENGTH);
  for (let p = 0; p < FACTOR; p++) {
    for (let j = 0; j < PHASE_LENGTH; j++) phases[p * PHASE_LENGTH + j] = FACTOR * (TAPS[p + FACTOR * j] ?? 0);
  }
  return phases;
})();

function toInt16(value: number): number {
  return Math.min(32767, Math.max(-32768, Math.round(value)));
}

/** History followed by the new frame, reused across calls so steady-state processing does not allocate scratch. */
class Window {
  private buffer: Float64Array;
  readonly historyLength: number;
  constructor(historyLength: number) {
    this.historyLength = historyLength;
    this.buffer = new Float64Array(historyLength);
  }

  fill(frame: Int16Array): Float64Array {
    const needed = this.historyLength + frame.length;
    if (this.buffer.length < needed) {
      const grown = new Float64Array(needed);
      grown.set(this.buffer.subarray(0, this.historyLength));
      this.buffer = grown;
    }
    for (let i = 0; i < frame.length; i++) this.buffer[this.historyLength + i] = frame[i]!;
    return this.buffer;
  }

  /** Keeps the newest `historyLength` samples for the next call. */
  advance(frameLength: number): void {
    this.buffer.copyWithin(0, frameLength, frameLength + this.historyLength);
  }

  clear(): void {
    this.buffer.fill(0);
  }
}

/** 48 kHz → 8 kHz. Any frame length works; a multiple of 6 gives exactly length / 6 samples. */
export class Downsampler48to8 {
  /** Group delay of the filter, in 8 kHz output samples. */
  static readonly delay = (TAP_COUNT - 1) / 2 / FACTOR;

  private readonly window = new Window(TAP_COUNT - 1);
  // Input samples to skip before the next kept one, when frames are not multiples of 6.
  private skip = 0;

  process(frame: Int16Array): Int16Array {
    const buf = this.window.fill(frame);
    const count = frame.length > this.skip ? Math.ceil((frame.length - this.skip) / FACTOR) : 0;
    const out = new Int16Array(count);
    for (let o = 0; o < count; o++) {
      const newest = TAP_COUNT - 1 + this.skip + o * FACTOR;
      let acc = 0;
      for (let k = 0; k < TAP_COUNT; k++) acc += TAPS[k]! * buf[newest - k]!;
      out[o] = toInt16(acc);
    }
    this.skip += count * FACTOR - frame.length;
    this.window.advance(frame.length);
    return out;
  }

  /** Forgets the previous stream, e.g. when its source changes. */
  reset(): void {
    this.window.clear();
    this.skip = 0;
  }
}

/** 8 kHz → 48 kHz: every input sample yields 6 output samples. */
export class Upsampler8to48 {
  /** Group delay of the filter, in 48 kHz output samples. */
  static readonly delay = (TAP_COUNT - 1) / 2;

  private readonly window = new Window(PHASE_LENGTH - 1);

  process(frame: Int16Array): Int16Array {
    const buf = this.window.fill(frame);
    const out = new Int16Array(frame.length * FACTOR);
    for (let m = 0; m < frame.length; m++) {
      const newest = PHASE_LENGTH - 1 + m;
      for (let p = 0; p < FACTOR; p++) {
        const base = p * PHASE_LENGTH;
        let acc = 0;
        for (let j = 0; j < PHASE_LENGTH; j++) acc += PHASES[base + j]! * buf[newest - j]!;
        out[m * FACTOR + p] = toInt16(acc);
      }
    }
    this.window.advance(frame.length);
    return out;
  }

  /** Forgets the previous stream, e.g. when its source changes. */
  reset(): void {
    this.window.clear();
  }
}
