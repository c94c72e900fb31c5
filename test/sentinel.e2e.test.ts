import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPrefix, waitFor } from '../common/testing.ts';
import { startTestBot, type TestBot } from './support/bots.ts';
import { Cluster, mediaNodeSpec } from './support/cluster.ts';
import { startSentinelSetup, type SentinelSetup } from './support/sentinel.ts';
import { createMeeting } from './support/server.ts';

/**
 * Redis high availability as deployed: a primary, a replica and three Sentinels of the test's
 * own, and Convene as separate api+push, meeting, media and files processes reaching Redis only
 * through the Sentinels. The primary is killed with SIGKILL in the middle of a call.
 *
 * SENTINEL_DOWN_AFTER_MS (default 1000) sets the Sentinels' down-after-milliseconds. At 5000 the
 * outage outlasts the node registry's STALE_MS and the meeting role's NodeWatcher takes the
 * live media node for dead, resetting everyone's media: a known issue, left to the work on
 * Redis outages in the background loops.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Redis Sentinel failover', () => {
  let redis: SentinelSetup | undefined;
  let cluster: Cluster | undefined;
  const bots: TestBot[] = [];
  let apiUrl: string;

  const bot = async (meetingId: string, name: string, toneHz: number, requestTimeoutMs?: number) => {
    const b = await startTestBot({ baseUrl: apiUrl, meetingId, name, toneHz, requestTimeoutMs });
    bots.push(b);
    return b;
  };
  /** Resolves once `to` receives growing audio bytes from `from`. */
  const hears = async (to: TestBot, from: TestBot, timeoutMs = 15_000) => {
    const first = await waitFor(async () => (await to.bytesFrom(from.id)) || undefined, { timeoutMs, what: `${to.client.self?.name} hearing ${from.client.self?.name}` });
    await waitFor(async () => (await to.bytesFrom(from.id)) > first, { timeoutMs, what: `${to.client.self?.name} to keep hearing ${from.client.self?.name}` });
  };

  beforeAll(async () => {
    redis = await startSentinelSetup({ downAfterMs: Number(process.env.SENTINEL_DOWN_AFTER_MS ?? 1000) });
    cluster = new Cluster({
      REDIS_SENTINELS: redis.sentinels,
      REDIS_SENTINEL_NAME: redis.name,
      REDIS_PREFIX: testPrefix('sentinel'),
      JWT_SECRET: 'sentinel-test-secret-long-enough-for-hs256',
      FILES_DIR: `${process.env.TMPDIR ?? '/tmp'}/convene-sentinel-files-${process.pid}`,
    });
    await Promise.all([cluster.start(mediaNodeSpec('media-1', 3251, 47000)), cluster.start({ name: 'meeting-1', roles: 'meeting', port: 3252 })]);
    await Promise.all([cluster.start({ name: 'front-1', roles: 'api,push', port: 3253 }), cluster.start({ name: 'files-1', roles: 'files', port: 3254 })]);
    apiUrl = cluster.url('front-1');
  }, 60_000);

  afterAll(async () => {
    await Promise.all(bots.map((b) => b.stop().catch(() => undefined)));
    await cluster?.stopAll();
    await redis?.stop();
  }, 30_000);

  it('refuses to start, naming REDIS_SENTINEL_NAME, when the Sentinels know no such primary', async () => {
    if (!redis) throw new Error('setup failed');
    const child = spawn(process.execPath, ['main.ts', '--role', 'meeting'], {
      env: { ...process.env, LOG_LEVEL: 'silent', PORT: '3255', REDIS_SENTINELS: redis.sentinels, REDIS_SENTINEL_NAME: 'no-such-primary' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('the Sentinels know no primary named "no-such-primary" (REDIS_SENTINEL_NAME)');
  });

  it('keeps the call flowing through a kill -9 of the primary and takes new joins within 10 s of the failover', async () => {
    if (!redis || !cluster) throw new Error('setup failed');
    const meeting = await createMeeting(apiUrl);
    const a = await bot(meeting.id, 'A', 300);
    const b = await bot(meeting.id, 'B', 500);
    await Promise.all([hears(a, b), hears(b, a)]);

    // Sample what each bot has received from the other, from before the kill to well after.
    const samples: Array<{ at: number; ab: number; ba: number }> = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push({ at: Date.now(), ab: await b.bytesFrom(a.id), ba: await a.bytesFrom(b.id) });
        await sleep(200);
      }
    })();
    await sleep(1000);

    const oldPrimary = await redis.primaryPortNow();
    const killedAt = Date.now();
    redis.killPrimary();
    await waitFor(async () => (await redis?.primaryPortNow()) !== oldPrimary, { timeoutMs: 30_000, intervalMs: 100, what: 'the Sentinels to promote the replica' });
    const failedOverAt = Date.now();
    expect(await redis.primaryPortNow()).toBe(redis.replicaPort);

    // New joins work again within 10 s: retry until one succeeds and is heard.
    let joined: TestBot | undefined;
    let lastError: unknown;
    while (!joined && Date.now() - failedOverAt < 10_000) {
      try {
        const c = await bot(meeting.id, 'C', 700, 3000);
        await hears(a, c, 10_000 - (Date.now() - failedOverAt));
        joined = c;
      } catch (error) {
        lastError = error;
        await sleep(250);
      }
    }
    const joinedAfterMs = Date.now() - failedOverAt;
    expect(joined, `no join within 10 s of the failover: ${String(lastError)}`).toBeDefined();
    expect(joinedAfterMs).toBeLessThanOrEqual(10_000);
    // Events still cross the bus, on channels subscribed before the failover.
    await a.client.sendChat('after the failover');
    await waitFor(() => b.client.chat.some((m) => m.text === 'after the failover'), { timeoutMs: 5000, what: 'B to get chat sent after the failover' });

    await sleep(Math.max(0, 3000 - (Date.now() - failedOverAt)));
    sampling = false;
    await sampler;

    // The media never stopped: from the last sample before the kill to the end, bytes grew in
    // both directions at least every 1.5 s (audio is 50 packets a second).
    const firstAfterKill = samples.findIndex((s) => s.at >= killedAt);
    const during = samples.slice(Math.max(0, firstAfterKill - 1));
    for (const direction of ['ab', 'ba'] as const) {
      let lastGrowth = during[0]?.at ?? killedAt;
      let longestStall = 0;
      for (let i = 1; i < during.length; i++) {
        const previous = during[i - 1];
        const current = during[i];
        if (!previous || !current) continue;
        if (current[direction] > previous[direction]) lastGrowth = current.at;
        longestStall = Math.max(longestStall, current.at - lastGrowth);
      }
      expect(longestStall, `${direction} stalled`).toBeLessThan(1500);
      expect((during.at(-1)?.[direction] ?? 0) - (during[0]?.[direction] ?? 0)).toBeGreaterThan(0);
    }
    expect(a.client.connected && b.client.connected).toBe(true);

    // No process exited, and nothing slipped past every handler to the process guard.
    for (const [name, server] of cluster.processes) {
      expect({ name, exitCode: server.process.exitCode, signal: server.process.signalCode }).toEqual({ name, exitCode: null, signal: null });
      expect(
        server.logs.join('').split('\n').filter((line) => line.includes('kept running')),
        `${name} reached the process guard`,
      ).toEqual([]);
    }
    console.info(`failover took ${failedOverAt - killedAt} ms; a new join was heard ${joinedAfterMs} ms after it`);
  }, 90_000);
});
