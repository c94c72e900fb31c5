import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UploadWatch } from './UploadWatch.ts';

// The watch is all timers: fake ones make its deadlines exact and the test instant.
describe('UploadWatch', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ends an upload that sends nothing for the idle time, with request_timeout, and not before', () => {
    const watch = new UploadWatch({ idleMs: 100, totalMs: 10_000, clientActive: () => false });
    vi.advanceTimersByTime(99);
    expect(watch.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    vi.runOnlyPendingTimers(); // the decision waits for the next poll phase (setImmediate)
    expect(watch.signal.aborted).toBe(true);
    expect(watch.signal.reason).toMatchObject({ code: 'request_timeout', status: 408 });
  });

  it('keeps an upload whose bytes keep coming, or wait on this server, until its total time', () => {
    const touched = new UploadWatch({ idleMs: 100, totalMs: 10_000 });
    const timer = setInterval(() => touched.touch(), 30);
    const waiting = new UploadWatch({ idleMs: 100, totalMs: 400, clientActive: () => true });
    vi.advanceTimersByTime(399);
    expect(touched.signal.aborted).toBe(false);
    expect(waiting.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(waiting.signal.reason).toMatchObject({ code: 'request_timeout', message: expect.stringMatching(/longer than 400/) });
    expect(touched.signal.aborted).toBe(false);
    clearInterval(timer);
    touched.stop();
  });
});
