import type { Socket } from 'socket.io-client';
import { ConveneClient } from '@convene/sdk/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createMeeting, type RunningServer, startServer } from './support/server.ts';
import { type Ack, API_KEY, connect, connectRefusal, data, enter, joinToken, opus, publishAudio, send, takeSeat, via } from './support/signalling.ts';

/**
 * The edge against strangers and removed people (issue 10): each case is a finding of outside
 * testing against the embedded server, driven with fetch and socket.io-client as an attacker would.
 */

const JOIN_RATE_LIMIT = 25;

describe('the edge keeps strangers and removed people out', () => {
  let server: RunningServer;
  const sockets: Socket[] = [];
  const track = <T extends { socket: Socket }>(seat: T): T => {
    sockets.push(seat.socket);
    return seat;
  };

  beforeAll(async () => {
    server = await startServer({
      port: 3741,
      env: {
        MEDIA_WORKERS: '1',
        MEDIA_PORT_BASE: '47400',
        MEDIA_RTC_MIN_PORT: '47410',
        MEDIA_RTC_MAX_PORT: '47500',
        // As deploy/ runs it: one proxy (nginx) in front.
        TRUST_PROXY: process.env.EDGE_TEST_TRUST_PROXY ?? '1',
        JOIN_RATE_LIMIT: String(JOIN_RATE_LIMIT),
        MEDIA_MAX_TRANSPORTS_PER_PARTICIPANT: '4',
        MEDIA_MAX_PRODUCERS_PER_PARTICIPANT: '3',
        MEDIA_MAX_CONSUMERS_PER_PARTICIPANT: '2',
      },
    });
  });

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await server?.stop();
  });

  describe('finding 7: removal is a ban for the meeting', () => {
    it('refuses the removed participant\'s join and session tokens, and a new token is a new participant', async () => {
      const meeting = await createMeeting(server.url);
      const host = track(await enter(server.url, meeting.id, { name: 'Host', hostKey: meeting.hostKey }));
      const guest = track(await enter(server.url, meeting.id, { name: 'Guest' }, via('198.18.0.21')));
      const gone = new Promise((resolve) => guest.socket.once('disconnect', resolve));
      expect(await send(host.socket, 'moderate', { action: 'remove', participantId: guest.id })).toMatchObject({ ok: true });
      await gone;

      // The original join token (still within its hour) and the session token no longer open a socket.
      expect(await connectRefusal(server.url, guest.token, meeting.id)).toBe('token_revoked');
      expect(await connectRefusal(server.url, guest.sessionToken, meeting.id)).toBe('token_revoked');
      // Nor do they read the meeting over HTTP.
      for (const token of [guest.token, guest.sessionToken]) {
        const list = await api<{ code: string }>(server.url, 'GET', `/v1/meetings/${meeting.id}/participants`, undefined, { authorization: `Bearer ${token}` });
        expect(list.status).toBe(401);
        expect(list.body.code).toBe('token_revoked');
      }
      // A plain removal lets the person ask again: a new token is a new participant.
      const again = track(await enter(server.url, meeting.id, { name: 'Guest' }, via('198.18.0.21')));
      expect(again.id).not.toBe(guest.id);
      expect(await send(again.socket, 'chat', { text: 'back' })).toMatchObject({ ok: true });
    });

    it('refuses a socket that was connected before the removal and tries to join again', async () => {
      const meeting = await createMeeting(server.url);
      const host = track(await enter(server.url, meeting.id, { name: 'Host', hostKey: meeting.hostKey }));
      const res = await joinToken(server.url, meeting.id, { name: 'Guest' }, via('198.18.0.22'));
      const guest = track(await takeSeat(server.url, meeting.id, res.body.token));
      // A second socket with the same token, opened before the removal, still holds a connection.
      const spare = await connect(server.url, res.body.token, meeting.id);
      sockets.push(spare);
      expect(await send(host.socket, 'moderate', { action: 'remove', participantId: guest.id })).toMatchObject({ ok: true });
      const rejoin = await send(spare, 'join', { rtpCapabilities: guest.rtpCapabilities, kind: 'bot' });
      expect(rejoin).toMatchObject({ ok: false, error: { code: 'token_revoked' } });
    });

    it('refuses new tokens from a banned participant\'s address, over HTTP and socket.io', async () => {
      const meeting = await createMeeting(server.url);
      const host = track(await enter(server.url, meeting.id, { name: 'Host', hostKey: meeting.hostKey }));
      const guest = track(await enter(server.url, meeting.id, { name: 'Guest' }, via('198.18.0.23')));
      expect(await send(host.socket, 'moderate', { action: 'remove', participantId: guest.id, ban: true })).toMatchObject({ ok: true });
      const refused = await joinToken(server.url, meeting.id, { name: 'Guest again' }, via('198.18.0.23'));
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('banned');
      // Someone else is still welcome.
      expect((await joinToken(server.url, meeting.id, { name: 'Other' }, via('198.18.0.24'))).status).toBe(200);

      const other = track(await enter(server.url, meeting.id, { name: 'Other' }, via('198.18.0.25')));
      const removed = await api(server.url, 'DELETE', `/v1/meetings/${meeting.id}/participants/${other.id}?ban=true`, undefined, API_KEY);
      expect(removed.status).toBe(204);
      expect(await connectRefusal(server.url, other.token, meeting.id)).toBe('token_revoked');
      expect((await joinToken(server.url, meeting.id, { name: 'Other' }, via('198.18.0.25'))).body.code).toBe('banned');
    });

    it('tells an SDK client removed while its connection was down that it was removed', async () => {
      const meeting = await createMeeting(server.url);
      const client = await ConveneClient.join({ baseUrl: server.url, meetingId: meeting.id, name: 'Away', handlerName: 'Chrome111', kind: 'bot', autoSubscribe: false });
      try {
        const closed = new Promise<{ reason: string }>((resolve) => client.once('closed', resolve));
        // The network goes; the host removes it before socket.io reconnects, so the moderation event is lost.
        client.disconnectTransportForTest();
        expect((await api(server.url, 'DELETE', `/v1/meetings/${meeting.id}/participants/${client.participantId}`, undefined, API_KEY)).status).toBe(204);
        const outcome = await Promise.race([closed, new Promise((resolve) => setTimeout(() => resolve({ reason: 'still waiting' }), 8000))]);
        expect(outcome).toEqual({ reason: 'removed' });
      } finally {
        await client.leave();
      }
    });
  });

  describe('finding 8: per-participant media limits on the media node', () => {
    it('gives one consumer per producer per participant; a repeated consume answers that consumer', async () => {
      const meeting = await createMeeting(server.url);
      const alice = track(await enter(server.url, meeting.id, { name: 'Alice' }));
      const bob = track(await enter(server.url, meeting.id, { name: 'Bob' }));
      const producerId = await publishAudio(alice);
      data(await send(bob.socket, 'createTransport', { direction: 'recv' }));
      const first = data(await send<{ id: string }>(bob.socket, 'consume', { producerId }));
      // As when the first answer was lost in a network drop: the same consumer, in the same shape.
      const second = data(await send<{ id: string }>(bob.socket, 'consume', { producerId }));
      expect(second).toEqual(first);
      // Concurrent requests too: one consumer, both told which.
      const other = await publishAudio(alice, 'screen-audio');
      const both = await Promise.all([send<{ id: string }>(bob.socket, 'consume', { producerId: other }), send<{ id: string }>(bob.socket, 'consume', { producerId: other })]);
      const [a, b] = both.map((ack) => data(ack));
      expect(a!.id).toBe(b!.id);
    });

    it('limits transports, producers and consumers', async () => {
      const meeting = await createMeeting(server.url);
      const alice = track(await enter(server.url, meeting.id, { name: 'Alice' }));
      const bob = track(await enter(server.url, meeting.id, { name: 'Bob' }));
      const answers: Ack[] = [];
      for (let i = 0; i < 6; i++) answers.push(await send(bob.socket, 'createTransport', { direction: 'recv' }));
      expect(answers.filter((a) => a.ok)).toHaveLength(4);
      expect(answers.at(-1)).toMatchObject({ ok: false, error: { code: 'limit_reached', details: { limit: 'transports', max: 4 } } });

      const producers = [await publishAudio(alice), await publishAudio(alice, 'screen-audio'), await publishAudio(alice)];
      const fourth = await send(alice.socket, 'produce', { transportId: alice.transportId, kind: 'audio', rtpParameters: opus(), source: 'mic' });
      expect(fourth).toMatchObject({ ok: false, error: { code: 'limit_reached', details: { limit: 'producers', max: 3 } } });

      const consumed = [];
      for (const producerId of producers) consumed.push(await send(bob.socket, 'consume', { producerId }));
      expect(consumed.filter((a) => a.ok)).toHaveLength(2);
      expect(consumed.at(-1)).toMatchObject({ ok: false, error: { code: 'limit_reached', details: { limit: 'consumers', max: 2 } } });
    });
    it('frees a transport the client closes, with its producers, for everyone', async () => {
      const meeting = await createMeeting(server.url);
      const alice = track(await enter(server.url, meeting.id, { name: 'Alice' }));
      const bob = track(await enter(server.url, meeting.id, { name: 'Bob' }));
      const producerId = await publishAudio(alice);
      const closed = new Promise((resolve) => bob.socket.on('producerClosed', (payload: { producerId: string }) => payload.producerId === producerId && resolve(payload)));
      for (let i = 0; i < 3; i++) data(await send(alice.socket, 'createTransport', { direction: 'recv' }));
      expect(await send(alice.socket, 'createTransport', { direction: 'recv' })).toMatchObject({ ok: false, error: { code: 'limit_reached' } });
      expect(await send(alice.socket, 'closeTransport', { transportId: alice.transportId })).toMatchObject({ ok: true });
      await closed;
      expect(await send(alice.socket, 'createTransport', { direction: 'send' })).toMatchObject({ ok: true });
      // Idempotent: closing it again is not an error.
      expect(await send(alice.socket, 'closeTransport', { transportId: alice.transportId })).toMatchObject({ ok: true });
    });
  });

  describe('finding 9: the join rate limit behind a proxy', () => {
    it('counts by the address the trusted proxy saw, not the forged left-most X-Forwarded-For', async () => {
      const meeting = await createMeeting(server.url, { password: 'right-password' });
      const statuses: number[] = [];
      for (let i = 0; i < JOIN_RATE_LIMIT + 15; i++) {
        const forged = `203.0.113.${i % 250}`;
        const res = await joinToken(server.url, meeting.id, { name: 'Guesser', password: `wrong-${i}` }, via(`${forged}, 198.18.0.99`));
        statuses.push(res.status);
      }
      expect(statuses.filter((s) => s === 403)).toHaveLength(JOIN_RATE_LIMIT);
      expect(statuses.slice(JOIN_RATE_LIMIT).every((s) => s === 429)).toBe(true);
    });
  });

  describe('low findings', () => {
    it('refuses names and chat with bidi overrides or control characters', async () => {
      const meeting = await createMeeting(server.url);
      for (const name of ['exe.\u202Egnp', 'a\u0007b', 'x\u2066y', 'tab\there']) {
        const res = await joinToken(server.url, meeting.id, { name });
        expect(res.status, JSON.stringify(name)).toBe(400);
        expect(res.body.code).toBe('validation_failed');
      }
      const guest = track(await enter(server.url, meeting.id, { name: 'שלום Ada' }));
      expect(await send(guest.socket, 'chat', { text: 'evil \u202Etxt.exe' })).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
      expect(await send(guest.socket, 'chat', { text: 'two\nlines are fine' })).toMatchObject({ ok: true });
    });

    it('sends security headers on the web client and the API docs', async () => {
      for (const route of [`/m/${(await createMeeting(server.url)).id}`, '/docs/']) {
        const res = await fetch(`${server.url}${route}`);
        expect(res.status, route).toBe(200);
        expect(res.headers.get('content-security-policy'), route).toMatch(/default-src 'self'/);
        expect(res.headers.get('content-security-policy'), route).toMatch(/frame-ancestors 'none'/);
        expect(res.headers.get('x-frame-options'), route).toBe('DENY');
        expect(res.headers.get('x-content-type-options'), route).toBe('nosniff');
      }
    });
  });
});
