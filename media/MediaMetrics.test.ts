import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../common/testing.ts';
import { MediaMetrics } from './MediaMetrics.ts';
import { WorkerPool } from './WorkerPool.ts';

describe('MediaMetrics with real mediasoup workers', () => {
  let pool: WorkerPool;
  const registry = new Registry();
  let metrics: MediaMetrics;
  const value = async (name: string) => (await registry.getSingleMetricAsString(name)).split('\n').filter((l) => !l.startsWith('#'));

  beforeAll(async () => {
    pool = new WorkerPool({ size: 2, listenIp: '127.0.0.1', rtcMinPort: 44400, rtcMaxPort: 44450 }, pino({ level: 'silent' }));
    await pool.start();
    metrics = new MediaMetrics(pool, { participantCount: 0, roomCount: 0, mixerStats: async () => null }, registry, pino({ level: 'silent' }), { maxConsumers: 500 });
  });
  afterAll(async () => pool.close());

  it('counts routers and piped producers per worker from mediasoup itself', async () => {
    const codecs = [{ kind: 'audio' as const, mimeType: 'audio/opus', clockRate: 48000, channels: 2 }];
    // Piping is between workers (as CrossWorkerPipes and node-to-node pipes do).
    const [a, b] = await Promise.all(pool.workers.map(({ worker }) => worker.createRouter({ mediaCodecs: codecs })));
    if (!a || !b) throw new Error('two workers expected');
    const transport = await a.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
    const producer = await transport.produce({
      kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 1111 }] },
    });
    await a.pipeToRouter({ producerId: producer.id, router: b });
    expect(await value('convene_media_routers')).toEqual(['convene_media_routers{worker="0"} 1', 'convene_media_routers{worker="1"} 1']);
    expect(await value('convene_media_piped_producers')).toEqual(['convene_media_piped_producers 1']);
    expect(await value('convene_media_consumer_capacity')).toEqual(['convene_media_consumer_capacity 500']);
    a.close();
    b.close();
    expect(await value('convene_media_piped_producers')).toEqual(['convene_media_piped_producers 0']);
  });

  it('counts a worker death and samples the replacement', async () => {
    expect(await value('convene_media_worker_deaths_total')).toEqual(['convene_media_worker_deaths_total 0']);
    const victim = pool.workers[0]!;
    process.kill(victim.worker.pid, 'SIGKILL');
    await waitFor(async () => (await value('convene_media_worker_deaths_total'))[0] === 'convene_media_worker_deaths_total 1', { what: 'the death counted', timeoutMs: 5000 });
    await waitFor(() => pool.workers.find((w) => w.index === victim.index && w.worker.pid !== victim.worker.pid), { what: 'a replacement worker', timeoutMs: 10_000 });
    await metrics.sample();
    expect(await value('convene_media_worker_cpu_ratio')).toEqual([
      expect.stringMatching(/^convene_media_worker_cpu_ratio\{worker="0"\} \d/),
      expect.stringMatching(/^convene_media_worker_cpu_ratio\{worker="1"\} \d/),
    ]);
  });
});
