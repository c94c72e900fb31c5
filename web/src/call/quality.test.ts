import { describe, expect, it } from 'vitest';
import { grade, worst } from './quality.ts';

const at = (packetsReceived: number, packetsLost: number, jitter = 0.005) => ({ packetsReceived, packetsLost, jitter });

describe('connection quality', () => {
  it('is good without loss, fair with some, poor with much', () => {
    expect(grade(at(0, 0), at(1000, 0))).toBe('good');
    expect(grade(at(0, 0), at(960, 40))).toBe('fair');
    expect(grade(at(100, 10), at(500, 110))).toBe('poor');
  });

  it('counts jitter', () => {
    expect(grade(at(0, 0), at(100, 0, 0.25))).toBe('poor');
    expect(grade(at(0, 0), at(100, 0, 0.08))).toBe('fair');
  });

  it('says nothing about an interval without packets (a paused stream)', () => {
    expect(grade(at(10, 0), at(10, 0))).toBeUndefined();
  });

  it('takes the worst of two streams', () => {
    expect(worst('good', 'poor')).toBe('poor');
    expect(worst(undefined, 'fair')).toBe('fair');
  });
});
