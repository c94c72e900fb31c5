import { Redis } from 'ioredis';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lock, tryLock } from '../common/state/lock.ts';
import { RedisStateStore } from '../common/state/RedisStateStore.ts';
import { TEST_REDIS_URL, testPrefix } from '../common/testing.ts';
import { api, createMeeting, type RunningServer, startServer } from './support/server.ts';

const PORT = 3391;

/**
 * A meeting's admission lock held elsewhere (a slow node, a stuck holder) must reach clients as
 * a retryable 503 `busy`, in the HTTP API's problem+json and in socket acks, never as
 * `internal`. The lock is held here directly in Redis, as another process would hold it.
 */
describe('a lock that cannot be had reaches clients as 503 busy', () => {
  const prefix = testPrefix('busy');
  let server: RunningServer;
  let redis: Redis;
  let store: RedisStateStore;

  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    store = new RedisStateStore(redis, prefix);
    server = await startServer({
      port: PORT,
      roles: 'api,push,meeting,media',
      env: {
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: prefix,
        SEAT_LOCK_WAIT_MS: '300',
        MEDIA_WORKERS: '1',
        MEDIA_PORT_BASE: '48300',
        MEDIA_RTC_MIN_PORT: '48310',
        MEDIA_RTC_MAX_PORT: '48400',
      },
    });
  });

  afterAll(async () => {
    await server?.stop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  const holdAdmission = async (meetingId: string): Promise<Lock> => {
    const lock = await tryLock(store, `admit:${meetingId}`, 20_000);
    expect(lock).not.toBeNull();
    return lock!;
  };

  it('HTTP: ending a meeting whose admission lock is held answers problem+json 503 busy', async () => {
    const meeting = await createMeeting(server.url);
    const lock = await holdAdmission(meeting.id);
    try {
      const res = await fetch(`${server.url}/v1/meetings/${meeting.id}`, { method: 'DELETE', headers: { 'x-api-key': 'dev-api-key' } });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await res.json()).toMatchObject({ status: 503, code: 'busy' });
      expect((await api<{ endedAt: number | null }>(server.url, 'GET', `/v1/meetings/${meeting.id}`)).body.endedAt).toBeNull();
    } finally {
      await lock.release();
    }
    const ended = await fetch(`${server.url}/v1/meetings/${meeting.id}`, { method: 'DELETE', headers: { 'x-api-key': 'dev-api-key' } });
    expect(ended.status).toBe(204);
  });

  it('socket: a join whose admission lock is held is acked with busy', async () => {
    const meeting = await createMeeting(server.url);
    const { body } = await api<{ token: string }>(server.url, 'POST', `/v1/meetings/${meeting.id}/join`, { name: 'Ida' });
    const socket = io(server.url, { transports: ['websocket'], auth: { token: body.token, meetingId: meeting.id }, forceNew: true, reconnection: false });
    try {
      const caps = (await socket.emitWithAck('getRouterRtpCapabilities', {})) as { ok: boolean; data: { rtpCapabilities: Record<string, unknown> } };
      expect(caps.ok).toBe(true);
      const lock = await holdAdmission(meeting.id);
      try {
        const joined = (await socket.emitWithAck('join', { rtpCapabilities: caps.data.rtpCapabilities, kind: 'bot' })) as { ok: boolean; error?: { code: string } };
        expect(joined).toMatchObject({ ok: false, error: { code: 'busy' } });
      } finally {
        await lock.release();
      }
      const retried = (await socket.emitWithAck('join', { rtpCapabilities: caps.data.rtpCapabilities, kind: 'bot' })) as { ok: boolean };
      expect(retried.ok).toBe(true);
      await socket.emitWithAck('leave', {});
    } finally {
      socket.close();
    }
  });
});
