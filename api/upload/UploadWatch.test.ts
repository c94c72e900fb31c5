import { describe, expect, it } from 'vitest';
import { UploadWatch } from './UploadWatch.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('UploadWatch', () => {
  it('ends an upload that sends nothing for the idle time, with request_timeout', async () => {
    const watch = new UploadWatch({ idleMs: 100, totalMs: 10_000, clientActive: () => false });
    await sleep(250);
    expect(watch.signal.aborted).toBe(true);
    expect(watch.signal.reason).toMatchObject({ code: 'request_timeout', status: 408 });
  });

  it('keeps an upload whose bytes keep coming, or wait on this server, until its total time', async () => {
    const touched = new UploadWatch({ idleMs: 100, totalMs: 10_000 });
    const timer = setInterval(() => touched.touch(), 30);
    const waiting = new UploadWatch({ idleMs: 100, totalMs: 400, clientActive: () => true });
    await sleep(300);
    expect(touched.signal.aborted).toBe(false);
    expect(waiting.signal.aborted).toBe(false);
    await sleep(250);
    expect(waiting.signal.reason).toMatchObject({ code: 'request_timeout', message: expect.stringMatching(/longer than 400/) });
    clearInterval(timer);
    touched.stop();
  });
});
