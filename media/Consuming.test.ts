import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../common/testing.ts';
import { MediaNode } from './MediaNode.ts';
import { WorkerPool } from './WorkerPool.ts';

let ssrc = 5000;
const opus = () => ({
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] }],
  headerExtensions: [],
  encodings: [{ ssrc: ssrc++ }],
  rtcp: { cname: `c${ssrc}`, reducedSize: true },
});

// Starts a mediasoup worker: run under the shared test lock.
describe('consuming on the media node', () => {
  let pool: WorkerPool;
  let node: MediaNode;
  const published: Array<{ participantId: string; event: string }> = [];

  beforeAll(async () => {
    pool = new WorkerPool({ size: 1, listenIp: '127.0.0.1', webRtcServerPortBase: 44800, rtcMinPort: 44810, rtcMaxPort: 44890 }, pino({ level: 'silent' }));
    await pool.start();
    node = new MediaNode(
      pool,
      { publish: (_meetingId, event) => published.push({ participantId: String(event.to), event: event.event }), notifyPeer: () => undefined },
      {
        nodeId: 'consume-test',
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
    await node?.close();
    await pool?.close();
  });

  /** Alice publishes one audio producer; Bob has a receive transport. */
  const meeting = async (meetingId: string) => {
    const alice = { meetingId, participantId: 'alice' };
    const bob = { meetingId, participantId: 'bob' };
    const { rtpCapabilities } = await node.getRouterRtpCapabilities({ meetingId });
    await node.registerParticipant({ ...alice, rtpCapabilities });
    await node.registerParticipant({ ...bob, rtpCapabilities });
    const send = await node.createPlainTransport({ ...alice, comedia: true });
    const { producerId } = await node.produce({ ...alice, transportId: send.id, kind: 'audio', rtpParameters: opus(), source: 'mic' });
    const recv = await node.createWebRtcTransport({ ...bob, direction: 'recv' });
    return { alice, bob, send, recv, producerId };
  };

  it('answers a repeated consume with the same consumer, in the same shape (its first answer was lost)', async () => {
    const { bob, producerId } = await meeting('consume1');
    const first = await node.consume({ ...bob, producerId });
    const again = await node.consume({ ...bob, producerId });
    expect(again).toEqual(first);
    expect(first).toMatchObject({ producerId, participantId: 'alice', kind: 'audio', source: 'mic' });
    // Concurrent ones too: one consumer, both told which.
    const { bob: carol, producerId: other } = await meeting('consume2');
    const [a, b] = await Promise.all([node.consume({ ...carol, producerId: other }), node.consume({ ...carol, producerId: other })]);
    expect(a.id).toBe(b.id);
  });

  it('replaces the consumer made on a receive transport the client abandoned', async () => {
    const { bob, producerId } = await meeting('consume3');
    const first = await node.consume({ ...bob, producerId });
    const rebuilt = await node.createWebRtcTransport({ ...bob, direction: 'recv' });
    const second = await node.consume({ ...bob, producerId, transportId: rebuilt.id });
    expect(second.id).not.toBe(first.id);
    await expect(node.resumeConsumer({ ...bob, consumerId: first.id })).rejects.toMatchObject({ code: 'not_found' });
    await node.resumeConsumer({ ...bob, consumerId: second.id });
  });

  it('tells the consumer once when its producer closes, however often it was asked for', async () => {
    const { alice, bob, producerId } = await meeting('consume4');
    const { id } = await node.consume({ ...bob, producerId });
    await node.consume({ ...bob, producerId });
    const before = published.length;
    const told = () => published.slice(before).filter((p) => p.event === 'consumerClosed' && p.participantId === 'bob');
    await node.closeProducer({ ...alice, producerId });
    // Every 'producerclose' listener runs in the one emit that sent the first notice, so a
    // second notice would already be here once the first is.
    await waitFor(() => told().length > 0, { what: 'consumerClosed', timeoutMs: 5000 });
    expect(told()).toHaveLength(1);
    await expect(node.pauseConsumer({ ...bob, consumerId: id })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('answers bad client parameters with bad_request, not a server error', async () => {
    const { alice, send } = await meeting('consume5');
    const broken = { ...opus(), codecs: [{ payloadType: 111, clockRate: 48000 }] };
    await expect(node.produce({ ...alice, transportId: send.id, kind: 'audio', rtpParameters: broken, source: 'mic' })).rejects.toMatchObject({ code: 'bad_request' });
    // A codec the router does not offer (VP9 is offered since the codec policy; AV1 is not).
    const av1 = { ...opus(), codecs: [{ mimeType: 'video/AV1', payloadType: 98, clockRate: 90000, parameters: {}, rtcpFeedback: [] }] };
    await expect(node.produce({ ...alice, transportId: send.id, kind: 'video', rtpParameters: av1, source: 'camera' })).rejects.toMatchObject({ code: 'bad_request' });
  });
});
