import { rmSync } from 'node:fs';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTimeout } from '../common/errors.ts';
import { testPrefix, waitFor } from '../common/testing.ts';
import { startTestBot, type TestBot } from './support/bots.ts';
import { Cluster, mediaNodeSpec } from './support/cluster.ts';
import { PrivateRedis } from './support/redisServer.ts';
import { api, createMeeting } from './support/server.ts';

/**
 * Every tier in its own process on a private redis-server that the test stops for 20 s: first
 * it comes back with its data (append-only file), then empty. Nothing may exit, media between
 * the bots must not stop, callers get 503 store_unavailable, and within 5 s of Redis returning
 * new joins and chat work through both push nodes. With the empty Redis the old call is
 * reconciled: its clients are told and the media nodes close everything it held.
 */
const OUTAGE_MS = 20_000;
const RECOVERY_MS = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Redis outage across processes', () => {
  let redis: PrivateRedis;
  let cluster: Cluster;
  let pushUrls: string[];
  const bots: TestBot[] = [];
  const sockets: Socket[] = [];
  const names = ['media-1', 'media-2', 'meeting-1', 'files-1', 'edge-1', 'edge-2'];

  const mediaLoad = async (name: string) =>
    ((await (await fetch(`${cluster.url(name)}/healthz`)).json()) as { mediaLoad: Record<string, number> }).mediaLoad;
  const exited = () => names.filter((n) => cluster.get(n).process.exitCode !== null || cluster.get(n).process.signalCode !== null);
  /** Errors that escaped every handler reach the process guard: there must be none. */
  const guardHits = () => names.filter((n) => /kept running/.test(cluster.get(n).logs.join('')));

  /** Samples every second that b keeps receiving a's audio, for as long as `during` runs. */
  const keepsHearing = async (listener: TestBot, speaker: TestBot, during: Promise<unknown>) => {
    let done = false;
    const finished = during.finally(() => {
      done = true;
    });
    let last = await listener.bytesFrom(speaker.id);
    let stalled = 0;
    while (!done) {
      await sleep(1000);
      const now = await listener.bytesFrom(speaker.id);
      if (now <= last) stalled++;
      else stalled = 0;
      // Two seconds without a byte is an interruption anyone would hear.
      expect(stalled, `${listener.client.self?.name} stopped hearing ${speaker.client.self?.name}`).toBeLessThan(2);
      last = now;
    }
    await finished;
  };

  /** A socket.io join through one push node, then a chat message through it. */
  const joinAndChat = async (push: string, meetingId: string, name: string) => {
    const { status, body } = await api<{ token: string; code?: string }>(push, 'POST', `/v1/meetings/${meetingId}/join`, { name });
    if (status !== 200) throw new Error(`join ${status} ${JSON.stringify(body)}`);
    const socket = io(push, { transports: ['websocket'], auth: { token: body.token, meetingId }, forceNew: true, reconnection: false });
    sockets.push(socket);
    try {
      const caps = (await socket.timeout(3000).emitWithAck('getRouterRtpCapabilities', {})) as { ok: boolean; data: { rtpCapabilities: unknown }; error?: unknown };
      if (!caps.ok) throw new Error(`caps ${JSON.stringify(caps.error)}`);
      const joined = (await socket.timeout(3000).emitWithAck('join', { rtpCapabilities: caps.data.rtpCapabilities, kind: 'bot' })) as { ok: boolean; error?: unknown };
      if (!joined.ok) throw new Error(`join ${JSON.stringify(joined.error)}`);
      const chat = (await socket.timeout(3000).emitWithAck('chat', { text: `hello from ${name}` })) as { ok: boolean; error?: unknown };
      if (!chat.ok) throw new Error(`chat ${JSON.stringify(chat.error)}`);
    } catch (error) {
      socket.close();
      throw error;
    }
    return socket;
  };

  /** Both push nodes take new joins and carry chat between them within RECOVERY_MS of `since`. */
  const serviceIsBack = async (since: number, meetingId: () => Promise<string>) => {
    const id = await waitFor(() => meetingId().catch(() => undefined), { timeoutMs: RECOVERY_MS, intervalMs: 200, what: 'a meeting' });
    const heard: string[] = [];
    const [first, second] = await Promise.all(
      pushUrls.map((push, i) => waitFor(() => joinAndChat(push, id, `new-${i}-${Date.now()}`).catch(() => undefined), { timeoutMs: RECOVERY_MS, intervalMs: 200, what: `a join through push node ${i + 1}` })),
    );
    first!.on('chatMessage', ({ message }: { message: { text: string } }) => heard.push(message.text));
    await second!.timeout(3000).emitWithAck('chat', { text: 'across push nodes' });
    await waitFor(() => heard.includes('across push nodes'), { timeoutMs: 2000, what: 'chat from one push node to the other' });
    expect(Date.now() - since).toBeLessThan(RECOVERY_MS + 1000);
    for (const socket of sockets.splice(0)) socket.close();
  };

  /** During the outage: readiness 503 everywhere, and callers get 503 store_unavailable within 2 s. */
  const refusesDuringOutage = async (bot: TestBot) => {
    for (const name of names) {
      const res = await fetch(`${cluster.url(name)}/readyz`);
      expect(res.status, `${name} /readyz`).toBe(503);
      expect((await fetch(`${cluster.url(name)}/livez`)).status).toBe(200);
    }
    let started = Date.now();
    const res = await api<{ code: string }>(pushUrls[0]!, 'POST', '/v1/meetings', {}, { 'x-api-key': 'dev-api-key' });
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('store_unavailable');
    expect(Date.now() - started).toBeLessThan(2000);
    started = Date.now();
    const chat = await bot.client.sendChat('during the outage').then(
      () => null,
      (error: { code?: string }) => error,
    );
    expect(chat?.code).toBe('store_unavailable');
    expect(Date.now() - started).toBeLessThan(2000);
  };

  beforeAll(async () => {
    redis = await PrivateRedis.create();
    await redis.start({ appendonly: true });
    cluster = new Cluster({
      REDIS_URL: redis.url,
      REDIS_PREFIX: testPrefix('outage'),
      JWT_SECRET: 'outage-test-secret-long-enough-for-hs256',
      FILES_DIR: `${redis.dir}-files`,
    });
    await Promise.all([cluster.start(mediaNodeSpec('media-1', 3311, 47100)), cluster.start(mediaNodeSpec('media-2', 3312, 47300)), cluster.start({ name: 'meeting-1', roles: 'meeting', port: 3313 })]);
    await Promise.all([
      cluster.start({ name: 'files-1', roles: 'files', port: 3314 }),
      cluster.start({ name: 'edge-1', roles: 'api,push', port: 3315 }),
      cluster.start({ name: 'edge-2', roles: 'api,push', port: 3316 }),
    ]);
    pushUrls = [cluster.url('edge-1'), cluster.url('edge-2')];
  }, 90_000);

  afterAll(async () => {
    try {
      for (const socket of sockets) socket.close();
      // A bot's goodbye may wait on a server that is gone; the cluster is stopped regardless.
      await withTimeout(Promise.all(bots.map((b) => b.stop())), 10_000, 'stopping the bots').catch(() => undefined);
      await cluster?.stopAll();
    } finally {
      await redis?.remove();
      if (redis) rmSync(`${redis.dir}-files`, { recursive: true, force: true });
    }
  }, 60_000);

  it('keeps calls going through a 20 s outage, answers 503 meanwhile, and is back within 5 s; with an empty Redis it reconciles the old call', async () => {
    const meeting = await createMeeting(pushUrls[0]!);
    const bot = async (name: string, push: number, toneHz: number) => {
      const b = await startTestBot({ baseUrl: pushUrls[push]!, signalingUrls: push === 0 ? pushUrls : [...pushUrls].reverse(), meetingId: meeting.id, name, toneHz });
      bots.push(b);
      return b;
    };
    const a = await bot('A', 0, 300);
    const b = await bot('B', 1, 500);
    await waitFor(async () => (await a.bytesFrom(b.id)) > 0 && (await b.bytesFrom(a.id)) > 0, { timeoutMs: 20_000, what: 'media both ways' });

    // 1. Redis stops for 20 s and comes back with its data.
    await redis.stop();
    const stoppedAt = Date.now();
    const outage = (async () => {
      await sleep(1500);
      await refusesDuringOutage(a);
      await sleep(OUTAGE_MS - (Date.now() - stoppedAt));
    })();
    await Promise.all([keepsHearing(a, b, outage), keepsHearing(b, a, outage)]);
    expect(exited()).toEqual([]);
    await redis.start({ appendonly: true });
    const back = Date.now();
    await serviceIsBack(back, async () => meeting.id);
    // The old call is whole: its seats are there and chat between its bots works again.
    await a.client.sendChat('after the outage');
    await waitFor(() => b.client.chat.some((m) => m.text === 'after the outage'), { what: 'chat in the old call' });

    // 2. Redis stops for 20 s and comes back empty.
    const closed = [a, b].map((x) => new Promise<string>((resolve) => x.client.once('closed', ({ reason }) => resolve(reason))));
    await redis.stop();
    const secondAt = Date.now();
    const second = (async () => {
      await sleep(1500);
      await refusesDuringOutage(b);
      await sleep(OUTAGE_MS - (Date.now() - secondAt));
    })();
    await Promise.all([keepsHearing(a, b, second), keepsHearing(b, a, second)]);
    expect(exited()).toEqual([]);
    redis.wipe();
    await redis.start({ appendonly: true });
    const emptyAt = Date.now();
    await serviceIsBack(emptyAt, async () => (await createMeeting(pushUrls[1]!)).id);
    expect(await Promise.all(closed)).toEqual(['state_lost', 'state_lost']);
    // Nothing of the old call is left on the media nodes (the new joins above had no transports).
    await waitFor(
      async () => {
        const loads = await Promise.all(['media-1', 'media-2'].map(mediaLoad));
        return loads.every((l) => l.transports === 0 && l.producers === 0 && l.consumers === 0);
      },
      { timeoutMs: 10_000, what: 'the media nodes to let go of the old call' },
    );
    expect(exited()).toEqual([]);
    expect(guardHits()).toEqual([]);
  }, 150_000);
});
