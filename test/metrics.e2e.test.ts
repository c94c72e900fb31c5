import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, testPrefix, waitFor } from '../common/testing.ts';
import { tinyPdf } from './support/services.ts';
import { writeTonePcap } from './sip/pcap.ts';
import { freeMediaPort, runSipp, type SippResult } from './sip/sipp.ts';
import { startTestBot, type TestBot } from './support/bots.ts';
import { Cluster, mediaNodeSpec } from './support/cluster.ts';
import { checkMetric, documentedMetrics, parseExposition } from './support/metricsDoc.ts';
import { api, createMeeting } from './support/server.ts';

/**
 * Every role in its own process on a shared Redis, with a call (two bots), a phone leg (sipp
 * dialling the PIN) and a deck conversion under way; then every metric of docs/operations.md's
 * table must be on the /metrics of every process of its roles, with a sensible value. Ports
 * come from 32000-32999 (this file's range on a shared machine).
 */
const prefix = testPrefix('metrics');
const filesDir = mkdtempSync(path.join(tmpdir(), 'convene-metrics-files-'));
const SIP_PORT = 32090;
const SHARED = {
  REDIS_URL: TEST_REDIS_URL,
  REDIS_PREFIX: prefix,
  JWT_SECRET: 'metrics-test-secret-long-enough-for-hs256',
  FILES_DIR: filesDir,
  // Every process would bind its own SIP port otherwise (test/support/server.ts): only the gateway binds it.
  SIP_PORT: String(SIP_PORT),
  SIP_ALLOWED_IPS: '127.0.0.1',
  // Samples each second, so that consumer stats are there soon after media flows.
  MEDIA_STATS_INTERVAL_MS: '1000',
};
const PROCESSES = [
  { name: 'media-1', roles: 'media', port: 32011 },
  { name: 'meeting-1', roles: 'meeting', port: 32012 },
  { name: 'api-1', roles: 'api', port: 32013 },
  { name: 'push-1', roles: 'push', port: 32014 },
  { name: 'files-1', roles: 'files', port: 32015 },
  { name: 'gateway-1', roles: 'gateway-sip', port: 32016 },
];

describe('metrics of a multi-process deployment', () => {
  const cluster = new Cluster(SHARED);
  const bots: TestBot[] = [];
  let call: Promise<SippResult> | undefined;

  beforeAll(async () => {
    await cluster.start(mediaNodeSpec('media-1', 32011, 32300, { MEDIA_STATS_INTERVAL_MS: '1000' }));
    await Promise.all(PROCESSES.filter((p) => p.name !== 'media-1').map((p) => cluster.start(p)));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(bots.map((b) => b.stop()));
    // The gateway hangs up on closing, which ends sipp's call early.
    await cluster.stopAll();
    await call?.catch(() => undefined);
    const redis = new Redis(TEST_REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    rmSync(filesDir, { recursive: true, force: true });
  }, 45_000);

  it('exports every documented metric with a sensible value on every role', async () => {
    const documented = documentedMetrics();
    const base = cluster.url('api-1');
    const meeting = await createMeeting(base);

    // A call: two bots through the push process, media on media-1.
    for (const name of ['Ann', 'Bob']) {
      bots.push(await startTestBot({ baseUrl: base, signalingUrls: [cluster.url('push-1')], meetingId: meeting.id, name }));
    }
    // A phone leg that lasts while the metrics are read.
    const tone = path.join(filesDir, 'tone.pcap');
    writeTonePcap(tone, { frequency: 1000, durationMs: 15_000, codec: 'PCMA' });
    call = runSipp({
      scenario: 'uac-pin',
      target: `127.0.0.1:${SIP_PORT}`,
      service: meeting.pin,
      mediaPort: await freeMediaPort(),
      pcaps: { 'audio.pcap': tone },
      keys: { audio_ms: '15000' },
      timeoutMs: 30_000,
    });
    // A conversion: a one-page PDF through the queue to files-1.
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(tinyPdf())]), 'deck.pdf');
    const uploaded = await fetch(`${base}/v1/meetings/${meeting.id}/files`, { method: 'POST', headers: { 'x-api-key': 'dev-api-key' }, body: form });
    expect(uploaded.status).toBe(201);
    const fileId = ((await uploaded.json()) as { id: string }).id;
    await waitFor(
      async () => (await api<{ status: string }>(base, 'GET', `/v1/meetings/${meeting.id}/files/${fileId}`, undefined, { 'x-api-key': 'dev-api-key' })).body.status === 'ready',
      { timeoutMs: 30_000, intervalMs: 250, what: 'the deck converted' },
    );

    // Until every process shows everything (stats are sampled, totals cached a few seconds).
    let problems: string[] = [];
    const scrapes = new Map<string, string>();
    await waitFor(
      async () => {
        problems = [];
        for (const p of PROCESSES) {
          const text = await (await fetch(`${cluster.url(p.name)}/metrics`)).text();
          scrapes.set(p.name, text);
          const exposition = parseExposition(text);
          for (const metric of documented) {
            if (!metric.roles.includes('every') && !metric.roles.includes(p.roles)) continue;
            const problem = checkMetric(metric, exposition);
            if (problem) problems.push(`${p.name}: ${problem}`);
          }
        }
        return problems.length === 0 ? true : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 1000, what: 'every documented metric' },
    ).catch(() => {
      throw new Error(`metrics missing or wrong:\n${problems.join('\n')}`);
    });

    // The call itself is what the values say.
    const value = (process: string, name: string, labels: Record<string, string> = {}) =>
      parseExposition(scrapes.get(process)!)
        .samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((sum, s) => sum + s.value, 0);
    expect(value('meeting-1', 'convene_participants', { kind: 'bot' })).toBe(2);
    expect(value('meeting-1', 'convene_participants', { kind: 'phone' })).toBe(1);
    expect(value('push-1', 'convene_push_sockets')).toBe(2);
    expect(value('push-1', 'convene_joins_total', { stage: 'seat', code: 'ok' })).toBe(2);
    expect(value('api-1', 'convene_joins_total', { stage: 'token', code: 'ok' })).toBe(2);
    expect(value('gateway-1', 'convene_sip_active_legs')).toBe(1);
    expect(value('gateway-1', 'convene_sip_calls_total', { direction: 'in', outcome: '200' })).toBe(1);
    expect(value('media-1', 'convene_media_participants')).toBeGreaterThanOrEqual(2);
    expect(value('files-1', 'convene_conversion_duration_seconds_count', { outcome: 'ok' })).toBe(1);
    expect(value('api-1', 'convene_http_request_duration_seconds_count', { route: '/v1/meetings/:meetingId/files', status_code: '201' })).toBe(1);
    // Nothing documented is missing from the table: every convene_ family exported is in it.
    const names = new Set(documented.map((m) => m.name));
    for (const [process, text] of scrapes) {
      for (const family of parseExposition(text).types.keys()) {
        if (family.startsWith('convene_')) expect(names.has(family), `${process} exports ${family}, which docs/operations.md does not list`).toBe(true);
      }
    }
  }, 110_000);
});
