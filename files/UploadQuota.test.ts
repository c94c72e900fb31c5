import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../common/state/MemoryStateStore.ts';
import { RedisStateStore } from '../common/state/RedisStateStore.ts';
import type { StateStore } from '../common/state/StateStore.ts';
import { TEST_REDIS_URL, testPrefix } from '../common/testing.ts';
import { UploadQuota, type UploadQuotaLimits } from './UploadQuota.ts';

const MiB = 1024 * 1024;
const redis = new Redis(TEST_REDIS_URL);
const prefix = testPrefix('quota');
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const limits = (change: Partial<UploadQuotaLimits> = {}): UploadQuotaLimits => ({ quotaBytes: 200 * MiB, uploadsPerMeeting: 50, uploadsPerParticipant: 50, holdMs: 60_000, ...change });

describe.each([
  ['memory', () => new MemoryStateStore() as StateStore],
  ['redis', () => new RedisStateStore(redis, prefix) as StateStore],
])('UploadQuota on the %s store', (_kind, makeStore) => {
  it('grants parallel reservations no more than the quota in all (20 × 15 MiB against 200 MiB)', async () => {
    const store = makeStore();
    // Two quota objects on one store: two api processes sharing Redis.
    const a = new UploadQuota(store, async () => 0, limits());
    const b = new UploadQuota(store, async () => 0, limits());
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).reserve('m1', `u${i}`, { bytes: 15 * MiB, by: `p${i}` })));
    const granted = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(granted.reduce((s, g) => s + g, 0)).toBe(200 * MiB);
    expect(granted.filter((g) => g === 15 * MiB)).toHaveLength(13);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as { code: string }).code).toBe('quota_exceeded');
  });

  it('counts stored files, gives back released holds and forgets lapsed ones', async () => {
    const store = makeStore();
    let stored = 150 * MiB;
    const quota = new UploadQuota(store, async () => stored, limits({ holdMs: 300 }));
    expect(await quota.reserve('m2', 'u1', { bytes: 40 * MiB, by: null })).toBe(40 * MiB);
    expect(await quota.reserve('m2', 'u2', { bytes: 40 * MiB, by: null })).toBe(10 * MiB);
    await expect(quota.reserve('m2', 'u3', { bytes: 1, by: null })).rejects.toMatchObject({ code: 'quota_exceeded' });
    await quota.release('m2', 'u2');
    // u1 settles: its file record (30 MiB, less than it reserved) replaces its hold.
    stored += 30 * MiB;
    await quota.release('m2', 'u1');
    expect(await quota.reserve('m2', 'u4', { bytes: 50 * MiB, by: null })).toBe(20 * MiB);
    await new Promise((r) => setTimeout(r, 400));
    expect(await quota.reserve('m2', 'u5', { bytes: 50 * MiB, by: null })).toBe(20 * MiB);
  });

  it('caps uploads under way per participant and per meeting', async () => {
    const quota = new UploadQuota(makeStore(), async () => 0, limits({ uploadsPerMeeting: 3, uploadsPerParticipant: 2 }));
    await quota.reserve('m3', 'u1', { bytes: MiB, by: 'alice' });
    await quota.reserve('m3', 'u2', { bytes: MiB, by: 'alice' });
    await expect(quota.reserve('m3', 'u3', { bytes: MiB, by: 'alice' })).rejects.toMatchObject({ code: 'rate_limited' });
    await quota.reserve('m3', 'u4', { bytes: MiB, by: 'bob' });
    await expect(quota.reserve('m3', 'u5', { bytes: MiB, by: 'carol' })).rejects.toMatchObject({ code: 'rate_limited' });
    await quota.release('m3', 'u1');
    await quota.reserve('m3', 'u6', { bytes: MiB, by: 'alice' });
    // Another meeting is not affected.
    await quota.reserve('m4', 'u7', { bytes: MiB, by: 'alice' });
  });
});
