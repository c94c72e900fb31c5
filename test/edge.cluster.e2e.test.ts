import { Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, testPrefix } from '../common/testing.ts';
import { Cluster, mediaNodeSpec } from './support/cluster.ts';
import { api, createMeeting } from './support/server.ts';
import { API_KEY, connectRefusal, data, enter, publishAudio, send } from './support/signalling.ts';

/**
 * Issue 10 in the distributed mode: removal revoked in one process is refused in another
 * (Redis StateStore), and the media limits hold on a media node reached over HTTP.
 */
const prefix = testPrefix('edge');

describe('the edge across processes', () => {
  const cluster = new Cluster({
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    JWT_SECRET: 'edge-cluster-secret-long-enough-for-hs256',
  });
  const sockets: Socket[] = [];
  let apiUrl: string;
  let pushUrl: string;

  beforeAll(async () => {
    await Promise.all([
      cluster.start(mediaNodeSpec('media-1', 3761, 47700, { MEDIA_MAX_TRANSPORTS_PER_PARTICIPANT: '2' })),
      cluster.start({ name: 'meeting-1', roles: 'meeting', port: 3762 }),
    ]);
    await Promise.all([cluster.start({ name: 'api-1', roles: 'api', port: 3763 }), cluster.start({ name: 'push-1', roles: 'push', port: 3764 })]);
    apiUrl = cluster.url('api-1');
    pushUrl = cluster.url('push-1');
  });

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await cluster.stopAll();
    const redis = new Redis(TEST_REDIS_URL);
    try {
      // Only this run's keys: SCAN by its own prefix, never a flush of the shared server.
      for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 })) if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
    } finally {
      redis.disconnect();
    }
  });

  it('refuses on the push node the tokens of a participant removed through the api node', async () => {
    const meeting = await createMeeting(apiUrl);
    const guest = await enter(apiUrl, meeting.id, { name: 'Guest' }, {}, pushUrl);
    sockets.push(guest.socket);
    expect((await api(apiUrl, 'DELETE', `/v1/meetings/${meeting.id}/participants/${guest.id}`, undefined, API_KEY)).status).toBe(204);
    expect(await connectRefusal(pushUrl, guest.token, meeting.id)).toBe('token_revoked');
    expect(await connectRefusal(pushUrl, guest.sessionToken, meeting.id)).toBe('token_revoked');
    expect((await api(apiUrl, 'GET', `/v1/meetings/${meeting.id}/participants`, undefined, { authorization: `Bearer ${guest.sessionToken}` })).status).toBe(401);
  });

  it('answers the media node\'s limits, with their details, through the push node', async () => {
    const meeting = await createMeeting(apiUrl);
    const alice = await enter(apiUrl, meeting.id, { name: 'Alice' }, {}, pushUrl);
    const bob = await enter(apiUrl, meeting.id, { name: 'Bob' }, {}, pushUrl);
    sockets.push(alice.socket, bob.socket);
    const producerId = await publishAudio(alice);
    data(await send(bob.socket, 'createTransport', { direction: 'recv' }));
    expect(await send(bob.socket, 'createTransport', { direction: 'recv' })).toMatchObject({ ok: true });
    expect(await send(bob.socket, 'createTransport', { direction: 'recv' })).toMatchObject({
      ok: false,
      error: { code: 'limit_reached', details: { limit: 'transports', max: 2 } },
    });
    const first = data(await send<{ id: string }>(bob.socket, 'consume', { producerId }));
    // A repeated consume (its first answer lost) answers the same consumer through the push node too.
    expect(data(await send<{ id: string }>(bob.socket, 'consume', { producerId }))).toEqual(first);
  });
});
