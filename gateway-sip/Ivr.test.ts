import { describe, expect, it } from 'vitest';
import { Ivr } from './Ivr.ts';

describe('Ivr', () => {
  it('collects a PIN ended by # or by its length', () => {
    const ivr = new Ivr(3);
    for (const d of '1234') expect(ivr.push(d)).toBeNull();
    expect(ivr.push('#')).toBe('1234');
    let pin: string | null = null;
    for (const d of '123456789') pin = ivr.push(d);
    expect(pin).toBe('123456789');
  });

  it('allows a limited number of tries, * clears, and ignores noise', () => {
    const ivr = new Ivr(3);
    ivr.push('9');
    ivr.push('*');
    ivr.push('A');
    ivr.push('1');
    expect(ivr.push('#')).toBe('1');
    expect(ivr.rejected()).toBe(true);
    ivr.push('2');
    ivr.push('#');
    expect(ivr.rejected()).toBe(true);
    ivr.push('3');
    ivr.push('#');
    expect(ivr.rejected()).toBe(false);
    expect(ivr.push('#')).toBeNull();
  });
});
