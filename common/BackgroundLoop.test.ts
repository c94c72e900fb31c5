import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BackgroundLoop } from './BackgroundLoop.ts';
import { waitFor } from './testing.ts';

describe('BackgroundLoop', () => {
  it('catches, counts and retries failed runs, then goes back to its interval', async () => {
    const metrics = new Registry();
    let calls = 0;
    let failing = true;
    const loop = new BackgroundLoop({ name: 'probe', intervalMs: 10, maxBackoffMs: 40, logger: pino({ level: 'silent' }), metrics }, async () => {
      calls++;
      if (failing) throw new Error('store down');
    });
    loop.start({ immediately: true });
    await waitFor(() => loop.failures >= 3);
    const metric = await metrics.getSingleMetricAsString('convene_background_errors_total');
    expect(metric).toMatch(/convene_background_errors_total\{loop="probe"\} [3-9]/);
    failing = false;
    await waitFor(() => loop.failures === 0, { what: 'recovery' });
    const after = calls;
    await waitFor(() => calls >= after + 3, { what: 'runs at the interval' });
    loop.stop();
  });

  it('never runs twice at once, and runNow joins the run in progress', async () => {
    let active = 0;
    let most = 0;
    const loop = new BackgroundLoop({ name: 'slow', intervalMs: 1000, logger: pino({ level: 'silent' }) }, async () => {
      active++;
      most = Math.max(most, active);
      await new Promise((r) => setTimeout(r, 20));
      active--;
    });
    await Promise.all([loop.runNow(), loop.runNow(), loop.runNow()]);
    expect(most).toBe(1);
    loop.stop();
  });
});
