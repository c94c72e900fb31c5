import { describe, expect, it } from 'vitest';
import { type JitterBufferOptions, JitterBuffer, type JitterFrame } from './JitterBuffer.ts';

function packet(sequenceNumber: number) {
  const seq = sequenceNumber & 0xffff;
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(seq);
  return { sequenceNumber: seq, timestamp: (seq * 160) >>> 0, payload };
}

/** A frame as the sequence number it carries, 'lost', or null. */
function show(frame: JitterFrame | null): number | 'lost' | null {
  if (frame === null) return null;
  if ('lost' in frame) return 'lost';
  expect(frame.sequenceNumber).toBe(frame.payload.readUInt16BE(0));
  return frame.sequenceNumber;
}

/** Runs ticks: each tick pushes its packets (in the given order), then pops once. */
function run(buffer: JitterBuffer, ticks: number[][]): Array<number | 'lost' | null> {
  return ticks.map((arrivals) => {
    for (const seq of arrivals) buffer.push(packet(seq));
    return show(buffer.pop());
  });
}

const steady = (from: number, count: number) => Array.from({ length: count }, (_, i) => [from + i]);
const idle = (count: number): number[][] => Array.from({ length: count }, () => []);
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => (from + i) & 0xffff);

function accounted(buffer: JitterBuffer): number {
  const s = buffer.stats;
  return s.played + s.late + s.duplicates + s.discarded + buffer.size;
}

describe('JitterBuffer', () => {
  it('plays an in-order stream after the target delay', () => {
    const buffer = new JitterBuffer();
    expect(run(buffer, steady(100, 10))).toEqual([null, null, ...range(100, 8)]);
    expect(buffer.size).toBe(2);
    expect(buffer.stats).toMatchObject({ received: 10, played: 8, lost: 0, late: 0, duplicates: 0 });
  });

  it('takes the target delay from its options', () => {
    expect(run(new JitterBuffer({ targetDelayFrames: 1 }), steady(0, 4))).toEqual([0, 1, 2, 3]);
    expect(run(new JitterBuffer({ targetDelayFrames: 5 }), steady(0, 6))).toEqual([null, null, null, null, 0, 1]);
  });

  it('starts playing a sparse stream once its first frame has waited the target delay', () => {
    expect(run(new JitterBuffer(), [[7], [], [], []])).toEqual([null, null, 7, null]);
  });

  it('puts reordered packets back in order', () => {
    const buffer = new JitterBuffer();
    const out = run(buffer, [[1], [0], [2], [4], [3], [5], [7], [6], [8], [10], [9], [11], [], [], []]);
    expect(out).toEqual([null, null, ...range(0, 12), null]);
    expect(buffer.stats).toMatchObject({ lost: 0, late: 0, played: 12 });
  });

  it('starts from the earliest packet when the first ones arrive out of order', () => {
    expect(run(new JitterBuffer(), [[12, 10, 11], [13]])).toEqual([10, 11]);
  });

  it('reports a missing frame as lost, in its place', () => {
    const buffer = new JitterBuffer();
    const out = run(buffer, [[0], [1], [2], [3], [5], [6], [7], [8]]);
    expect(out).toEqual([null, null, 0, 1, 2, 3, 'lost', 5]);
    expect(buffer.stats.lost).toBe(1);
  });

  it('reports several missing frames in a row', () => {
    const out = run(new JitterBuffer(), [[0], [1], [2], [6], [7], [8], [9], [10], [11]]);
    expect(out).toEqual([null, null, 0, 1, 2, 'lost', 'lost', 'lost', 6]);
  });

  it('drops duplicates, before and after playing them', () => {
    const buffer = new JitterBuffer();
    const out = run(buffer, [[0, 0], [1], [2, 1], [3, 0], [4]]);
    expect(out).toEqual([null, null, 0, 1, 2]);
    expect(buffer.stats).toMatchObject({ duplicates: 3, late: 0, received: 8 });
  });

  it('drops packets that arrive after their frame was given up on', () => {
    const buffer = new JitterBuffer();
    const out = run(buffer, [[0], [1], [2], [4], [5], [6], [3], [7]]);
    expect(out).toEqual([null, null, 0, 1, 2, 'lost', 4, 5]);
    expect(buffer.stats).toMatchObject({ late: 1, lost: 1, duplicates: 0 });
  });

  it('keeps going across the 16-bit wrap-around', () => {
    const buffer = new JitterBuffer();
    const out = run(buffer, [[65533], [65534], [0], [65535], [1], [3], [2], [4], [5]]);
    expect(out).toEqual([null, null, 65533, 65534, 65535, 0, 1, 2, 3]);
    // Late and duplicate detection work across the wrap too.
    buffer.push(packet(65535));
    buffer.push(packet(2));
    buffer.push(packet(5));
    expect(buffer.stats).toMatchObject({ lost: 0, late: 0, duplicates: 3 });
  });

  it('returns null on underrun, and gathers the target delay again before resuming', () => {
    const buffer = new JitterBuffer();
    // The source goes quiet (silence suppression) and comes back with the next sequence number.
    const out = run(buffer, [...steady(0, 5), ...idle(5), ...steady(5, 5)]);
    expect(out).toEqual([null, null, 0, 1, 2, 3, 4, null, null, null, null, null, 5, 6, 7]);
    expect(buffer.stats).toMatchObject({ underruns: 1, lost: 0, resets: 0 });
  });

  it('counts frames that never came during an underrun as lost', () => {
    const buffer = new JitterBuffer();
    const out = run(buffer, [...steady(0, 3), ...idle(4), [5], [6], [7], [8]]);
    expect(out).toEqual([null, null, 0, 1, 2, null, null, null, null, 5, 6]);
    expect(buffer.stats.lost).toBe(2);
  });

  it('forgets the source after a long silence, so any sequence number starts afresh', () => {
    const buffer = new JitterBuffer({ resetAfterIdleTicks: 20 });
    run(buffer, steady(0, 5));
    run(buffer, idle(25));
    expect(buffer.stats.resets).toBe(1);
    // Far from where the old stream left off, yet accepted straight away.
    expect(run(buffer, steady(30000, 4))).toEqual([null, null, 30000, 30001]);
    expect(buffer.stats.discarded).toBe(0);
  });

  it('resets when the sender restarts with a new sequence', () => {
    const buffer = new JitterBuffer();
    const out = run(buffer, [...steady(1000, 6), [40000], [40001], [40002], [40003], [40004]]);
    expect(out).toEqual([null, null, 1000, 1001, 1002, 1003, 1004, null, 40000, 40001, 40002]);
    expect(buffer.stats).toMatchObject({ resets: 1, lost: 0, late: 0 });
    // The old stream's last frame was dropped at the restart.
    expect(buffer.stats.discarded).toBe(1);
    expect(accounted(buffer)).toBe(buffer.stats.received);
  });

  it('ignores a single stray packet far from the stream', () => {
    const buffer = new JitterBuffer();
    const out = run(buffer, [[0], [1], [2, 30000], [3], [4, 12345], [5], [6]]);
    expect(out).toEqual([null, null, 0, 1, 2, 3, 4]);
    expect(buffer.stats).toMatchObject({ resets: 0, discarded: 2, lost: 0 });
  });

  it('skips ahead after a burst instead of keeping the extra delay', () => {
    const buffer = new JitterBuffer({ maxDelayFrames: 8 });
    run(buffer, steady(0, 10));
    // A stall: nothing for 10 ticks, then its backlog arrives at once.
    run(buffer, idle(10));
    const out = run(buffer, [range(10, 20), [30], [31], [32]]);
    expect(buffer.size).toBeLessThanOrEqual(3);
    // Only the newest target-delay's worth of the backlog is played.
    expect(out).toEqual([27, 28, 29, 30]);
    expect(buffer.stats.discarded).toBe(17);
    expect(accounted(buffer)).toBe(buffer.stats.received);
  });

  it('turns a long outage into a few lost frames, not minutes of them', () => {
    const buffer = new JitterBuffer();
    const out = run(buffer, [...steady(0, 5), [60], [61], [62], [63], [64]]);
    // What was buffered before the outage still plays.
    expect(out).toEqual([null, null, 0, 1, 2, 3, 4, 60, 61, 62]);
    expect(buffer.stats.lost).toBe(55);
    expect(buffer.size).toBe(2);
  });

  it('skips a long outage that began with an underrun', () => {
    const buffer = new JitterBuffer();
    const out = run(buffer, [...steady(0, 3), ...idle(10), [60], [61], [62], [63]]);
    expect(out.slice(-4)).toEqual([null, null, 60, 61]);
    expect(buffer.stats).toMatchObject({ lost: 57, underruns: 1, resets: 0 });
  });

  it('forgets everything on reset()', () => {
    const buffer = new JitterBuffer();
    run(buffer, steady(0, 4));
    buffer.reset();
    expect(buffer.size).toBe(0);
    expect(buffer.pop()).toBeNull();
    expect(run(buffer, steady(500, 3))).toEqual([null, null, 500]);
    expect(accounted(buffer)).toBe(buffer.stats.received);
  });

  it.each<[string, JitterBufferOptions]>([
    ['a zero target', { targetDelayFrames: 0 }],
    ['a fractional target', { targetDelayFrames: 1.5 }],
    ['a maximum below the target', { targetDelayFrames: 5, maxDelayFrames: 4 }],
    ['a zero idle reset', { resetAfterIdleTicks: 0 }],
  ])('rejects %s', (_, options) => {
    expect(() => new JitterBuffer(options)).toThrow(RangeError);
  });

  it('plays a jittery, lossy, duplicating network stream in order and accounts for every packet', () => {
    let s = 7;
    const random = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
    const sent = 3000;
    const arrivals: Array<{ at: number; seq: number }> = [];
    for (let i = 0; i < sent; i++) {
      if (random() < 0.03) continue;
      // Up to 50 ms of jitter, and now and then a packet stuck for 200 ms.
      const delay = random() < 0.01 ? 200 : random() * 50;
      arrivals.push({ at: i * 20 + delay, seq: 64000 + i });
      if (random() < 0.02) arrivals.push({ at: i * 20 + delay + random() * 100, seq: 64000 + i });
    }
    arrivals.sort((a, b) => a.at - b.at);

    const buffer = new JitterBuffer();
    const played: number[] = [];
    let next = 0;
    for (let tick = 1; tick <= sent + 20; tick++) {
      while (next < arrivals.length && arrivals[next]!.at < tick * 20) buffer.push(packet(arrivals[next++]!.seq));
      const frame = buffer.pop();
      if (frame && 'payload' in frame) played.push(frame.sequenceNumber);
    }

    // Unwrapped, what was played strictly increases.
    const unwrapped = played.map((seq) => (seq < 64000 ? seq + 65536 : seq));
    for (let i = 1; i < unwrapped.length; i++) expect(unwrapped[i]).toBeGreaterThan(unwrapped[i - 1]!);
    const stats = buffer.stats;
    expect(stats.received).toBe(arrivals.length);
    expect(accounted(buffer)).toBe(stats.received);
    expect(stats.played).toBeGreaterThan(sent * 0.95);
    expect(stats.played + stats.lost).toBeLessThanOrEqual(sent);
    expect(stats.duplicates).toBeGreaterThan(0);
    expect(stats.late).toBeGreaterThan(0);
    expect(stats.resets).toBe(0);
  });
});
