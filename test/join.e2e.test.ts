import { PROTOCOL_VERSION } from '@convene/protocol/version';
import { io, Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../common/testing.ts';
import { startTestBot, type TestBot } from './support/bots.ts';
import { createMeeting, type RunningServer, startServer } from './support/server.ts';
import { data, enter, joinToken, publishAudio,
  publishVideo, type Seat, send } from './support/signalling.ts';

/**
 * The join in as few round trips as the protocol allows (issue 16): the HTTP join answers the
 * router's capabilities, and `join` answers the transports and the consumers of what is already
 * published. Clients that ask for none of it (protocol 1, older SDKs) get the answer they knew.
 */

type TransportAnswer = { id: string; iceParameters: unknown; iceCandidates: unknown[]; dtlsParameters: unknown };
type JoinAnswer = {
  self: { id: string };
  producers: Array<{ id: string }>;
  transports?: { recv?: TransportAnswer; send?: TransportAnswer };
  consumers?: Array<{ id: string; producerId: string; participantId: string; kind: string }>;
};

describe('a faster join', () => {
  let server: RunningServer;
  const sockets: Socket[] = [];
  const bots: TestBot[] = [];

  beforeAll(async () => {
    server = await startServer({
      port: 34101,
      env: { MEDIA_WORKERS: '1', MEDIA_PORT_BASE: '34700', MEDIA_RTC_MIN_PORT: '34710', MEDIA_RTC_MAX_PORT: '34800' },
    });
  });

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await Promise.all(bots.map((bot) => bot.stop()));
    await server?.stop();
  });

  /** A host who publishes (fake RTP parameters: the producer exists, no media flows). */
  async function hostPublishing(meetingId: string, hostKey: string): Promise<{ host: Seat; producerId: string }> {
    const host = await enter(server.url, meetingId, { name: 'Host', hostKey });
    sockets.push(host.socket);
    return { host, producerId: await publishAudio(host) };
  }

  it('answers the router capabilities with the join token, and the transports and consumers with the join', async () => {
    const meeting = await createMeeting(server.url);
    const { producerId } = await hostPublishing(meeting.id, meeting.hostKey);

    const ticket = await joinToken(server.url, meeting.id, { name: 'Guest' });
    const { rtpCapabilities } = ticket.body as { rtpCapabilities?: { codecs?: unknown[] } };
    expect(rtpCapabilities?.codecs?.length).toBeGreaterThan(0);

    const socket = io(server.url, { transports: ['websocket'], auth: { token: ticket.body.token, meetingId: meeting.id, protocol: PROTOCOL_VERSION }, reconnection: false, forceNew: true });
    sockets.push(socket);
    const joined = data(await send<JoinAnswer>(socket, 'join', { rtpCapabilities, kind: 'bot', transports: ['recv', 'send'], consume: true }));
    expect(joined.transports?.recv?.iceCandidates.length).toBeGreaterThan(0);
    expect(joined.transports?.send?.id).toBeTypeOf('string');
    expect(joined.transports?.send?.id).not.toBe(joined.transports?.recv?.id);
    expect(joined.consumers).toEqual([expect.objectContaining({ producerId, kind: 'audio' })]);
    // The consumer is the one `consume` would make: asked again, the server answers the same one.
    const again = data(await send<{ id: string }>(socket, 'consume', { producerId }));
    expect(again.id).toBe(joined.consumers?.[0]?.id);
    // The transports are real: the client connects them the usual way.
    expect(await send(socket, 'connectTransport', { transportId: joined.transports!.recv!.id, dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: fingerprint() }] } })).toMatchObject({ ok: true });
  });

  it('makes no video consumers in the join for a seat that joins audio-only', async () => {
    const meeting = await createMeeting(server.url);
    const { host, producerId } = await hostPublishing(meeting.id, meeting.hostKey);
    await publishVideo(host);
    const ticket = await joinToken(server.url, meeting.id, { name: 'Listener' });
    const { rtpCapabilities } = ticket.body as unknown as { rtpCapabilities: Record<string, unknown> };
    const socket = io(server.url, { transports: ['websocket'], auth: { token: ticket.body.token, meetingId: meeting.id, protocol: PROTOCOL_VERSION }, reconnection: false, forceNew: true });
    sockets.push(socket);
    const joined = data(await send<JoinAnswer>(socket, 'join', { rtpCapabilities, kind: 'bot', receiveVideo: false, transports: ['recv'], consume: true }));
    expect(joined.consumers).toEqual([expect.objectContaining({ producerId, kind: 'audio' })]);
  });

  it('gives a client that asks for nothing (protocol 1) the answer it knew, and the old round trips still work', async () => {
    const meeting = await createMeeting(server.url);
    const { producerId } = await hostPublishing(meeting.id, meeting.hostKey);
    // enter() speaks protocol 1: no version in the handshake, getRouterRtpCapabilities, then join.
    const guest = await enter(server.url, meeting.id, { name: 'Old guest' });
    sockets.push(guest.socket);
    const rejoined = data(await send<JoinAnswer>(guest.socket, 'join', { rtpCapabilities: guest.rtpCapabilities, kind: 'bot' }));
    expect(rejoined).not.toHaveProperty('transports');
    expect(rejoined).not.toHaveProperty('consumers');
    const transport = data(await send<{ id: string }>(guest.socket, 'createTransport', { direction: 'recv' }));
    const consumer = data(await send<{ id: string; producerId: string }>(guest.socket, 'consume', { producerId }));
    expect(consumer.producerId).toBe(producerId);
    expect(transport.id).toBeTypeOf('string');
    expect(await send(guest.socket, 'resumeConsumer', { consumerId: consumer.id })).toMatchObject({ ok: true });
  });

  it('brings the SDK its media in the join: audio flows with no createTransport, consume or resume round trip', async () => {
    const meeting = await createMeeting(server.url);
    const speaker = await startTestBot({ baseUrl: server.url, meetingId: meeting.id, name: 'Speaker' });
    bots.push(speaker);

    const sent = recordRequests();
    const listener = await startTestBot({ baseUrl: server.url, meetingId: meeting.id, name: 'Listener', toneHz: 660 });
    bots.push(listener);
    await waitFor(async () => (await listener.bytesFrom(speaker.id)) > 0, { timeoutMs: 15_000 });
    await waitFor(async () => (await speaker.bytesFrom(listener.id)) > 0, { timeoutMs: 15_000 });
    const asked = sent.stop();
    // The listener's own requests: its join, its two transports' connects and its produce. The
    // speaker subscribes to the listener's new producer the usual way (consume, connect, resume).
    expect(asked.filter((name) => name === 'getRouterRtpCapabilities' || name === 'createTransport')).toEqual([]);
    expect(asked.filter((name) => name === 'join')).toEqual(['join']);
    expect(asked.filter((name) => name === 'consume')).toHaveLength(1);
  });
});

/** The names of the requests every socket.io client in this process sends until stopped. */
function recordRequests(): { stop(): string[] } {
  const proto = Socket.prototype as unknown as { emitWithAck: (event: string, ...args: unknown[]) => Promise<unknown> };
  const original = proto.emitWithAck;
  const names: string[] = [];
  proto.emitWithAck = function (this: Socket, event: string, ...args: unknown[]) {
    names.push(event);
    return original.call(this, event, ...args);
  };
  return {
    stop: () => {
      proto.emitWithAck = original;
      return names;
    },
  };
}

/** A well-formed SHA-256 fingerprint; the transport is never used, so any will do. */
function fingerprint(): string {
  return Array.from({ length: 32 }, () => 'AB').join(':');
}
