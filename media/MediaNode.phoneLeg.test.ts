import dgram from 'node:dgram';
import type { types } from 'mediasoup';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRtp } from '../audio/rtp.ts';
import { MediaNode } from './MediaNode.ts';
import { WorkerPool } from './WorkerPool.ts';

// Starts a mediasoup worker: run under the shared test lock.
describe('phone legs on the media node (finding 4)', () => {
  let pool: WorkerPool;
  let node: MediaNode;
  const transports: types.Transport[] = [];
  const sockets: dgram.Socket[] = [];

  const socket = async () => {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
    sockets.push(s);
    return s;
  };

  beforeAll(async () => {
    pool = new WorkerPool({ size: 1, listenIp: '127.0.0.1', webRtcServerPortBase: 44700, rtcMinPort: 44710, rtcMaxPort: 44790 }, pino({ level: 'silent' }));
    await pool.start();
    for (const { worker } of pool.workers) worker.observer.on('newrouter', (router) => router.observer.on('newtransport', (t) => transports.push(t)));
    node = new MediaNode(
      pool,
      { publish: () => undefined, notifyPeer: () => undefined },
      {
        nodeId: 'leg-test',
        routerIdleTimeoutMs: 60_000,
        consumersPerRouter: 400,
        maxConsumers: 1000,
        listenIp: '127.0.0.1',
        limits: { transports: 4, producers: 6, consumers: 400 },
      },
      pino({ level: 'silent' }),
    );
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await node?.close();
    await pool?.close();
  });

  it('connects the leg to the gateway: RTP from a stranger does not take it over', async () => {
    const meetingId = 'legtest1';
    const participantId = 'p_sip_test';
    const { rtpCapabilities } = await node.getRouterRtpCapabilities({ meetingId });
    await node.registerParticipant({ meetingId, participantId, rtpCapabilities });
    const gateway = await socket();
    const mix = await socket();
    const stranger = await socket();
    const leg = await node.createPhoneLeg({
      meetingId,
      participantId,
      codec: 'PCMA',
      sendTo: { ip: '127.0.0.1', port: mix.address().port },
      peer: { ip: '127.0.0.1', port: gateway.address().port },
    });
    const transport = transports.find((t) => t.id === leg.transportId) as types.PlainTransport | undefined;
    expect(transport).toBeDefined();
    for (let i = 0; i < 5; i++) {
      stranger.send(buildRtp({ payloadType: 100, sequenceNumber: i, timestamp: i * 960, ssrc: 4242, payload: Buffer.alloc(40, 1) }), leg.port, leg.ip);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(transport!.tuple.remotePort).toBe(gateway.address().port);
    // And the gateway learns where the mix-minus comes from, to take it from nowhere else.
    expect(leg.mixFrom.port).toBeGreaterThan(0);
  });
});
