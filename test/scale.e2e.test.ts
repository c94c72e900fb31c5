import { Redis } from 'ioredis';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, testPrefix, waitFor } from '../common/testing.ts';
import { startTestBot, type TestBot } from './support/bots.ts';
import { Cluster, mediaNodeSpec } from './support/cluster.ts';
import { api, createMeeting } from './support/server.ts';

/**
 * The distributed mode as it is deployed: 2 api, 2 push, 1 meeting and 2 media processes on
 * 127.0.0.1, sharing a real Redis, with @roamhq/wrtc bots as participants.
 */
const prefix = testPrefix('scale');
const SHARED = {
  REDIS_URL: TEST_REDIS_URL,
  REDIS_PREFIX: prefix,
  JWT_SECRET: 'scale-test-secret-long-enough-for-hs256',
  RECONNECT_GRACE_MS: '20000',
  // A small budget so that a few bots already spread one meeting over both media nodes.
  MEDIA_CONSUMERS_PER_ROUTER: '2',
};

describe('scale-out across processes', () => {
  const cluster = new Cluster(SHARED);
  const redis = new Redis(TEST_REDIS_URL);
  const bots: TestBot[] = [];
  let apiUrls: string[];
  let pushUrls: string[];

  const participants = async (meetingId: string) => {
    const raw = await redis.hgetall(`${prefix}meeting:${meetingId}:participants`);
    return Object.values(raw).map((r) => JSON.parse(r) as { id: string; mediaNodeId?: string; pushNodeId?: string; connection: string });
  };
  const mediaHealth = async (name: string) =>
    (await (await fetch(`${cluster.url(name)}/healthz`)).json()) as { mediaLoad: { routers: number; consumers: number }; mediaState: string };

  const bot = async (meetingId: string, name: string, push: number, toneHz = 440) => {
    const b = await startTestBot({
      baseUrl: apiUrls[push % apiUrls.length]!,
      signalingUrls: push === 0 ? pushUrls : [...pushUrls].reverse(),
      meetingId,
      name,
      toneHz,
    });
    bots.push(b);
    return b;
  };

  /** Resolves once `to` receives growing audio bytes from `from`. */
  const hears = async (to: TestBot, from: TestBot, timeoutMs = 15_000) => {
    const first = await waitFor(async () => (await to.bytesFrom(from.id)) || undefined, { timeoutMs, what: `${to.client.self?.name} hearing ${from.client.self?.name}` });
    await waitFor(async () => (await to.bytesFrom(from.id)) > first, { timeoutMs, what: `${to.client.self?.name} to keep hearing ${from.client.self?.name}` });
  };

  beforeAll(async () => {
    await Promise.all([
      cluster.start(mediaNodeSpec('media-1', 3211, 46300)),
      cluster.start(mediaNodeSpec('media-2', 3212, 46500)),
      cluster.start({ name: 'meeting-1', roles: 'meeting', port: 3213 }),
    ]);
    await Promise.all([
      cluster.start({ name: 'api-1', roles: 'api', port: 3214 }),
      cluster.start({ name: 'api-2', roles: 'api', port: 3215 }),
      cluster.start({ name: 'push-1', roles: 'push', port: 3216 }),
      cluster.start({ name: 'push-2', roles: 'push', port: 3217 }),
    ]);
    apiUrls = [cluster.url('api-1'), cluster.url('api-2')];
    pushUrls = [cluster.url('push-1'), cluster.url('push-2')];
  }, 60_000);

  afterAll(async () => {
    await Promise.all(bots.map((b) => b.stop()));
    await cluster.stopAll();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }, 60_000);

  it('carries media and events between push nodes and media nodes, piping one meeting across nodes', async () => {
    const meeting = await createMeeting(apiUrls[0]!);
    const a = await bot(meeting.id, 'A', 0, 300);
    const b = await bot(meeting.id, 'B', 1, 500);
    await hears(a, b);
    await hears(b, a);
    // The first router is at its budget of 2 consumers: C must land on the other node.
    const c = await bot(meeting.id, 'C', 0, 700);
    await Promise.all([hears(c, a), hears(c, b), hears(a, c), hears(b, c)]);
    const seats = await participants(meeting.id);
    const nodeOf = (bot: TestBot) => seats.find((p) => p.id === bot.id)?.mediaNodeId;
    expect(nodeOf(a)).toBe(nodeOf(b));
    expect(nodeOf(c)).not.toBe(nodeOf(a));
    expect(new Set(seats.map((p) => p.pushNodeId))).toEqual(new Set(['push-1', 'push-2']));
    // Events cross push nodes: chat from A (push-1) reaches B (push-2) and C.
    await a.client.sendChat('across the cluster');
    await waitFor(() => b.client.chat.some((m) => m.text === 'across the cluster') && c.client.chat.some((m) => m.text === 'across the cluster'));
    expect(b.client.participants.has(c.id)).toBe(true);
    await Promise.all([a.stop(), b.stop(), c.stop()]);
  });

  it('creates exactly one meeting on exactly one node from twenty concurrent first joins', async () => {
    const meeting = await createMeeting(apiUrls[1]!);
    const before = (await mediaHealth('media-1')).mediaLoad.routers + (await mediaHealth('media-2')).mediaLoad.routers;
    const joins = Array.from({ length: 20 }, async (_, i) => {
      const { body } = await api<{ token: string }>(apiUrls[i % 2]!, 'POST', `/v1/meetings/${meeting.id}/join`, { name: `J${i}` });
      const socket = io(pushUrls[i % 2]!, { transports: ['websocket'], auth: { token: body.token, meetingId: meeting.id }, forceNew: true, reconnection: false });
      const caps = (await socket.emitWithAck('getRouterRtpCapabilities', {})) as { ok: boolean; data: { rtpCapabilities: Record<string, unknown> } };
      const joined = (await socket.emitWithAck('join', { rtpCapabilities: caps.data.rtpCapabilities, kind: 'bot' })) as { ok: boolean };
      return { socket, ok: caps.ok && joined.ok };
    });
    const results = await Promise.all(joins);
    expect(results.every((r) => r.ok)).toBe(true);
    const seats = await participants(meeting.id);
    expect(seats).toHaveLength(20);
    expect(new Set(seats.map((p) => p.mediaNodeId)).size).toBe(1);
    const record = JSON.parse((await redis.get(`${prefix}meeting:${meeting.id}`))!) as { mediaNodeId: string };
    expect(seats[0]?.mediaNodeId).toBe(record.mediaNodeId);
    const after = (await mediaHealth('media-1')).mediaLoad.routers + (await mediaHealth('media-2')).mediaLoad.routers;
    expect(after - before).toBe(1);
    await Promise.all(results.map(({ socket }) => socket.emitWithAck('leave', {})));
    for (const { socket } of results) socket.close();
  });

  it('brings the clients of a killed push node back to their seats within 10 s', async () => {
    const meeting = await createMeeting(apiUrls[0]!);
    const u = await bot(meeting.id, 'U', 0); // push-1 first
    const v = await bot(meeting.id, 'V', 1); // push-2 first
    await hears(u, v);
    await hears(v, u);
    const seatsBefore = (await participants(meeting.id)).map((p) => p.id).sort();
    expect((await participants(meeting.id)).find((p) => p.id === u.id)?.pushNodeId).toBe('push-1');
    let reconnected = false;
    u.client.once('reconnected', () => {
      reconnected = true;
    });
    cluster.kill('push-1');
    // The 10 s are the bound of the wait; what is asserted is the outcome: the same seat.
    await waitFor(() => reconnected, { timeoutMs: 10_000, what: 'U back on a push node' });
    expect(u.client.participantId).toBe(u.id);
    expect((await participants(meeting.id)).map((p) => p.id).sort()).toEqual(seatsBefore);
    expect((await participants(meeting.id)).find((p) => p.id === u.id)).toMatchObject({ pushNodeId: 'push-2', connection: 'connected' });
    await hears(v, u);
    await hears(u, v);
    await Promise.all([u.stop(), v.stop()]);
    pushUrls = [cluster.url('push-2')];
  });

  it('gives every participant media again within 15 s after a media node is killed, keeping seats and chat', async () => {
    const meeting = await createMeeting(apiUrls[0]!);
    const r = await bot(meeting.id, 'R', 1, 350);
    const s = await bot(meeting.id, 'S', 1, 650);
    await hears(r, s);
    await hears(s, r);
    await r.client.sendChat('before the crash');
    const seats = await participants(meeting.id);
    const victim = seats[0]!.mediaNodeId!;
    expect(seats.every((p) => p.mediaNodeId === victim)).toBe(true);
    const rebuilt = [r, s].map((b) => new Promise<void>((resolve) => b.client.on('reconnected', ({ rebuilt }) => rebuilt && resolve())));
    cluster.kill(victim);
    // Packets in flight at the kill still count as bytes: only media after the rebuild proves recovery.
    await Promise.all(rebuilt);
    await Promise.all([hears(r, s, 15_000), hears(s, r, 15_000)]);
    const after = await participants(meeting.id);
    expect(after.map((p) => p.id).sort()).toEqual([r.id, s.id].sort());
    for (const seat of after) expect(seat.mediaNodeId, JSON.stringify(after)).not.toBe(victim);
    // Capacity back (the survivor's router is at its budget), then a late joiner sees the chat.
    await cluster.start(mediaNodeSpec('media-3', 3218, 46700));
    const late = await bot(meeting.id, 'Late', 1);
    expect(late.client.chat.map((m) => m.text)).toContain('before the crash');
    await Promise.all([r.stop(), s.stop(), late.stop()]);
  });

  it('drains a media node on SIGTERM: no new meetings, calls go on until they end, then it exits', async () => {
    const meeting = await createMeeting(apiUrls[0]!);
    const p = await bot(meeting.id, 'P', 1);
    const q = await bot(meeting.id, 'Q', 1);
    await hears(p, q);
    await hears(q, p);
    const node = (await participants(meeting.id))[0]!.mediaNodeId!;
    const drained = cluster.get(node).process;
    let exited = false;
    drained.once('exit', () => {
      exited = true;
    });
    drained.kill('SIGTERM');
    await waitFor(async () => (await mediaHealth(node)).mediaState === 'draining', { what: 'draining state' });
    // A new meeting goes elsewhere.
    const other = await createMeeting(apiUrls[1]!);
    const newcomer = await bot(other.id, 'N', 1);
    expect((await participants(other.id))[0]?.mediaNodeId).not.toBe(node);
    // The call on the draining node goes on: media through it after the SIGTERM, and the node
    // still answering as draining after that media, show it did not leave its calls.
    await hears(p, q);
    await hears(q, p);
    expect((await mediaHealth(node)).mediaState).toBe('draining');
    expect(exited).toBe(false);
    await Promise.all([p.stop(), q.stop(), newcomer.stop()]);
    await waitFor(() => exited, { timeoutMs: 15_000, what: 'the drained node to exit' });
    expect(drained.exitCode).toBe(0);
  });
});
