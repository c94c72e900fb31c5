import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../common/testing.ts';
import { WorkerPool } from './WorkerPool.ts';

describe('WorkerPool with real mediasoup workers', () => {
  let pool: WorkerPool;
  beforeAll(async () => {
    pool = new WorkerPool(
      { size: 2, listenIp: '127.0.0.1', webRtcServerPortBase: 44100, rtcMinPort: 44200, rtcMaxPort: 44300 },
      pino({ level: 'silent' }),
    );
    await pool.start();
  });
  afterAll(async () => pool.close());

  it('starts one worker per slot, each with a WebRtcServer', () => {
    expect(pool.size).toBe(2);
    for (const { worker, webRtcServer } of pool.workers) {
      expect(worker.pid).toBeGreaterThan(0);
      expect(webRtcServer).toBeDefined();
    }
  });

  it('replaces a worker whose process is killed', async () => {
    const victim = pool.workers[0];
    if (!victim) throw new Error('no worker');
    const died: number[] = [];
    pool.on('workerDied', ({ pid }) => died.push(pid));
    process.kill(victim.worker.pid, 'SIGKILL');
    await waitFor(() => died.includes(victim.worker.pid), { what: 'worker death', timeoutMs: 5000 });
    const replacement = await waitFor(() => pool.workers.find((w) => w.index === victim.index && w.worker.pid !== victim.worker.pid), {
      what: 'replacement worker',
      timeoutMs: 10_000,
    });
    expect(replacement.worker.closed).toBe(false);
    expect(pool.size).toBe(2);
    // The replacement really works: it can host a router and reuses the slot's port.
    const router = await replacement.worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
    expect(replacement.load.routers).toBe(1);
    router.close();
    expect(replacement.load.routers).toBe(0);
  });

  it('places on the least-loaded worker', async () => {
    const first = pool.leastLoaded();
    if (!first) throw new Error('no worker');
    const router = await first.worker.createRouter({ mediaCodecs: [] });
    const second = pool.leastLoaded();
    expect(second?.index).not.toBe(first.index);
    router.close();
  });
});
