import { describe, expect, it } from 'vitest';
import { FRAME_SAMPLES, Reframer } from './Reframer.ts';

const START = 0xfffff000; // close to the wrap, so that the 32-bit clock wraps within the tests

/** `count` packets of `ms` milliseconds of G.711 at 8 kHz, from RTP timestamp `from`. */
function packets(ms: number, count: number, from = 4_000_000_000): Array<{ timestamp: number; pcm8: Int16Array }> {
  const samples = ms * 8;
  return Array.from({ length: count }, (_, i) => ({ timestamp: (from + i * samples) >>> 0, pcm8: new Int16Array(samples).fill(1000) }));
}

describe('Reframer: any G.711 packet time in, 20 ms Opus frames out', () => {
  for (const ms of [10, 20, 30, 40]) {
    it(`${ms} ms packets come out as whole 20 ms frames on a continuous 48 kHz clock`, () => {
      const reframer = new Reframer(START);
      const frames = packets(ms, 12).flatMap((p) => reframer.push(p.timestamp, p.pcm8));
      // 12 packets of `ms` hold 12·ms ms of audio: that many whole 20 ms frames.
      expect(frames).toHaveLength(Math.floor((12 * ms) / 20));
      frames.forEach((frame, i) => {
        expect(frame.samples).toHaveLength(FRAME_SAMPLES);
        expect(frame.timestamp).toBe((START + i * FRAME_SAMPLES) >>> 0);
      });
    });
  }

  it('moves the clock on by a lost packet and drops the part frame the loss cut', () => {
    const reframer = new Reframer(START);
    const sent = packets(30, 4);
    const frames = [sent[0]!, sent[1]!, sent[3]!].flatMap((p) => reframer.push(p.timestamp, p.pcm8));
    // 60 ms before the loss: three frames. The packet after it starts 90 ms in, at 4320 on the
    // 48 kHz clock; 30 ms make one frame, and 10 ms wait for more.
    expect(frames.map((f) => (f.timestamp - START) >>> 0)).toEqual([0, 960, 1920, 4320]);
  });

  it('drops a packet that comes after its time (reordered or repeated)', () => {
    const reframer = new Reframer(START);
    const [a, b] = packets(20, 2);
    expect(reframer.push(a!.timestamp, a!.pcm8)).toHaveLength(1);
    expect(reframer.push(b!.timestamp, b!.pcm8)).toHaveLength(1);
    expect(reframer.push(a!.timestamp, a!.pcm8)).toEqual([]);
  });

  it('starts over on a new stream (a jump of seconds) without a hole in what it sends', () => {
    const reframer = new Reframer(START);
    const before = packets(20, 2).flatMap((p) => reframer.push(p.timestamp, p.pcm8));
    const after = packets(20, 2, 12345).flatMap((p) => reframer.push(p.timestamp, p.pcm8));
    expect([...before, ...after].map((f) => (f.timestamp - START) >>> 0)).toEqual([0, 960, 1920, 2880]);
  });
});
