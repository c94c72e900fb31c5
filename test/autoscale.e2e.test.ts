import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { podDeletionCost } from '../common/PodDeletionCost.ts';
import { TEST_REDIS_URL, testPrefix, waitFor } from '../common/testing.ts';
import { startTestBot, type TestBot } from './support/bots.ts';
import { Cluster, mediaNodeSpec } from './support/cluster.ts';
import { createMeeting } from './support/server.ts';

/**
 * Autoscaling without a cluster: media nodes under bot load, their live /metrics, and the
 * decision KEDA's HPA would take from them with the thresholds of the real manifest
 * (deploy/k8s/components/autoscaling/scaledobjects.yaml), so that the test and the manifest
 * cannot drift. Then the scale-in the ReplicaSet would do: the pod with the lowest
 * pod-deletion-cost (computed as the patcher computes it) gets SIGTERM, drains, and every
 * participant keeps its seat, its media moved to the nodes that stay.
 *
 * What only the manifests and docs cover (no cluster here): KEDA querying Prometheus, the HPA's
 * stabilisation windows over time, the ReplicaSet honouring the annotation, the patcher's API call.
 */
const prefix = testPrefix('autoscale');
// A worker "carries" 8 consumers here, so that a handful of bots crosses the manifest's
// thresholds, which are ratios of capacity (production: MEDIA_MAX_CONSUMERS_PER_WORKER=500).
const CAPACITY_PER_WORKER = 8;
const SHARED = {
  REDIS_URL: TEST_REDIS_URL,
  REDIS_PREFIX: prefix,
  JWT_SECRET: 'autoscale-test-secret-long-enough',
  RECONNECT_GRACE_MS: '20000',
  // As deployed (deploy/k8s/base): a new meeting goes to the node with the most free capacity.
  PLACEMENT_STRATEGY: 'least-loaded',
  MEDIA_MAX_CONSUMERS_PER_WORKER: String(CAPACITY_PER_WORKER),
  // The drained node keeps its calls this long, then the meeting tier moves who is left.
  MEDIA_DRAIN_TIMEOUT_MS: '3000',
};

// ---- the manifest ------------------------------------------------------------------------
interface Trigger {
  name: string;
  type: string;
  metricType: string;
  metadata: { query: string; threshold: string };
}
interface ScaledObject {
  metadata: { name: string };
  spec: {
    minReplicaCount: number;
    maxReplicaCount: number;
    triggers: Trigger[];
    advanced: { horizontalPodAutoscalerConfig: { behavior: Record<'scaleUp' | 'scaleDown', { policies: Array<{ type: string; value: number }> }> } };
  };
}
const manifest = path.resolve(import.meta.dirname, '../deploy/k8s/components/autoscaling/scaledobjects.yaml');
const media = parseAllDocuments(readFileSync(manifest, 'utf8'))
  .map((d) => d.toJSON() as ScaledObject)
  .find((o) => o.metadata.name === 'media')!;
/** The HPA controller's default --horizontal-pod-autoscaler-tolerance. */
const HPA_TOLERANCE = 0.1;

// ---- what Prometheus would answer: the triggers' queries over the scraped gauges ----------
/** Every series of each convene_media_* gauge on one node (a gauge may be labelled by worker). */
type Scrape = Map<string, number[]>;
/** The queries this test knows how to evaluate; a changed query fails here until taught. */
const QUERIES: Array<{ shape: RegExp; evaluate: (nodes: Scrape[]) => number }> = [
  {
    shape: /^sum by \(namespace\) \(convene_media_consumers\{namespace="[^"]+"\}\) \/ sum by \(namespace\) \(convene_media_consumer_capacity\)$/,
    evaluate: (nodes) => sum(nodes, 'convene_media_consumers') / sum(nodes, 'convene_media_consumer_capacity'),
  },
  {
    shape: /^avg by \(namespace\) \(convene_media_worker_cpu_ratio\{namespace="[^"]+"\}\)$/,
    evaluate: (nodes) => sum(nodes, 'convene_media_worker_cpu_ratio') / Math.max(1, series(nodes, 'convene_media_worker_cpu_ratio').length),
  },
];
const series = (nodes: Scrape[], name: string) => nodes.flatMap((n) => n.get(name) ?? []);
const sum = (nodes: Scrape[], name: string) => series(nodes, name).reduce((total, v) => total + v, 0);

interface Decision {
  current: number;
  desired: number;
  perTrigger: Record<string, { value: number; threshold: number; desired: number }>;
}

/**
 * The HPA's algorithm for External metrics with a Value target, as KEDA configures it: per
 * trigger desired = ceil(current × value / threshold) unless the ratio is within the tolerance;
 * the largest over the triggers; bounded by min/max and by the behaviour's Pods policies.
 */
function decide(current: number, nodes: Scrape[]): Decision {
  const perTrigger: Decision['perTrigger'] = {};
  let desired = 0;
  for (const trigger of media.spec.triggers) {
    expect(trigger.type).toBe('prometheus');
    expect(trigger.metricType).toBe('Value');
    const query = QUERIES.find((q) => q.shape.test(trigger.metadata.query));
    expect(query, `no evaluator for the query of trigger ${trigger.name}: ${trigger.metadata.query}`).toBeDefined();
    const value = query!.evaluate(nodes);
    const threshold = Number(trigger.metadata.threshold);
    const ratio = value / threshold;
    const wanted = Math.abs(ratio - 1) <= HPA_TOLERANCE ? current : Math.ceil(current * ratio);
    perTrigger[trigger.name] = { value, threshold, desired: wanted };
    desired = Math.max(desired, wanted);
  }
  desired = Math.min(media.spec.maxReplicaCount, Math.max(media.spec.minReplicaCount, desired));
  const { scaleUp, scaleDown } = media.spec.advanced.horizontalPodAutoscalerConfig.behavior;
  const step = (rules: typeof scaleUp) => rules.policies.find((p) => p.type === 'Pods')?.value ?? Number.POSITIVE_INFINITY;
  if (desired > current) desired = Math.min(desired, current + step(scaleUp));
  if (desired < current) desired = Math.max(desired, current - step(scaleDown));
  return { current, desired, perTrigger };
}

describe('autoscaling media nodes on their live metrics', () => {
  const cluster = new Cluster(SHARED);
  const redis = new Redis(TEST_REDIS_URL);
  const bots: TestBot[] = [];
  const mediaNodes = ['media-1', 'media-2'];
  let apiUrl: string;
  let pushUrl: string;

  const scrape = async (name: string): Promise<Scrape> => {
    const text = await (await fetch(`${cluster.url(name)}/metrics`)).text();
    const values: Scrape = new Map();
    for (const line of text.split('\n')) {
      const m = line.match(/^(convene_media_[a-z_]+)(?:\{[^}]*\})? (\S+)$/);
      if (m) values.set(m[1]!, [...(values.get(m[1]!) ?? []), Number(m[2])]);
    }
    return values;
  };
  const scrapeAll = () => Promise.all(mediaNodes.map(scrape));
  const seats = async (meetingId: string) => {
    const raw = await redis.hgetall(`${prefix}meeting:${meetingId}:participants`);
    return Object.values(raw).map((r) => JSON.parse(r) as { id: string; mediaNodeId?: string });
  };
  const registryConsumers = async (node: string) => {
    const raw = await redis.hget(`${prefix}nodes:media`, node);
    return raw ? (JSON.parse(raw) as { load: { consumers: number } }).load.consumers : -1;
  };
  const bot = async (meetingId: string, name: string, toneHz: number) => {
    const b = await startTestBot({ baseUrl: apiUrl, signalingUrls: [pushUrl], meetingId, name, toneHz });
    bots.push(b);
    return b;
  };
  const hears = async (to: TestBot, from: TestBot) => {
    const first = await waitFor(async () => (await to.bytesFrom(from.id)) || undefined, { timeoutMs: 20_000, what: `${to.client.self?.name} hearing ${from.client.self?.name}` });
    await waitFor(async () => (await to.bytesFrom(from.id)) > first, { timeoutMs: 20_000, what: `${to.client.self?.name} to keep hearing ${from.client.self?.name}` });
  };

  beforeAll(async () => {
    await Promise.all([
      cluster.start(mediaNodeSpec('media-1', 33011, 33100)),
      cluster.start(mediaNodeSpec('media-2', 33012, 33300)),
      cluster.start({ name: 'core-1', roles: 'api,push,meeting', port: 33013 }),
    ]);
    apiUrl = cluster.url('core-1');
    pushUrl = cluster.url('core-1');
  }, 60_000);

  afterAll(async () => {
    await Promise.all(bots.map((b) => b.stop()));
    await cluster.stopAll();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }, 60_000);

  it('scales out over the target, holds near it, scales in under it, and drains the emptiest node without dropping anyone', async () => {
    // ---- over the target: one meeting of four on one node, 12 consumers of 16 ----------------
    const a = await createMeeting(apiUrl);
    const [a1, a2, a3, a4] = [await bot(a.id, 'A1', 300), await bot(a.id, 'A2', 400), await bot(a.id, 'A3', 500), await bot(a.id, 'A4', 600)];
    await waitFor(async () => sum(await scrapeAll(), 'convene_media_consumers') >= 12, { timeoutMs: 20_000, what: '12 consumers' });
    const out = decide(mediaNodes.length, await scrapeAll());
    console.log('over the target:', JSON.stringify(out));
    expect(out.perTrigger['consumers-of-capacity']!.value).toBeGreaterThan(out.perTrigger['consumers-of-capacity']!.threshold * (1 + HPA_TOLERANCE));
    expect(out.desired).toBeGreaterThan(mediaNodes.length);

    // The autoscaler adds a node (the test stops at three processes).
    await cluster.start(mediaNodeSpec('media-3', 33014, 33500));
    mediaNodes.push('media-3');
    const hold = decide(mediaNodes.length, await scrapeAll());
    console.log('after scale-out:', JSON.stringify(hold));
    expect(hold.desired).toBe(mediaNodes.length);

    // ---- under the target: A shrinks to two; P (three bots) and L (one) start ----------------
    // Placement picks the node with the least consumers for capacity, from the registry
    // (heartbeats every 2 s): once A's and P's loads are there, L goes to the node left empty,
    // and each node holds a different number of participants (2, 3, 1).
    await Promise.all([a3.stop(), a4.stop()]);
    await waitFor(async () => sum(await scrapeAll(), 'convene_media_consumers') === 2, { timeoutMs: 20_000, what: 'A down to 2 consumers' });
    const aNode = (await seats(a.id))[0]!.mediaNodeId!;
    await waitFor(async () => (await registryConsumers(aNode)) === 2, { timeoutMs: 20_000, what: "A's load in the registry" });
    const p = await createMeeting(apiUrl);
    const [p1, p2, p3] = [await bot(p.id, 'P1', 350), await bot(p.id, 'P2', 450), await bot(p.id, 'P3', 550)];
    const pNode = (await seats(p.id))[0]!.mediaNodeId!;
    await waitFor(async () => (await registryConsumers(pNode)) >= 6, { timeoutMs: 20_000, what: "P's load in the registry" });
    const l = await createMeeting(apiUrl);
    const l1 = await bot(l.id, 'L1', 650);
    const meetings = [a, p, l];
    const pairs: Array<[TestBot, TestBot]> = [
      [a1, a2],
      [p1, p2],
      [p2, p3],
    ];
    await Promise.all(pairs.map(([x, y]) => hears(x, y)));

    const scraped = await scrapeAll();
    const inDecision = decide(mediaNodes.length, scraped);
    console.log('under the target:', JSON.stringify(inDecision));
    expect(inDecision.desired).toBeLessThan(mediaNodes.length);

    // ---- the ReplicaSet's choice: the lowest pod-deletion-cost, as the patcher sets it -------
    const costs = mediaNodes.map((name, i) => ({ name, cost: podDeletionCost(sum([scraped[i]!], 'convene_media_participants')) }));
    console.log('pod-deletion-cost:', JSON.stringify(costs));
    const victim = [...costs].sort((x, y) => x.cost - y.cost || x.name.localeCompare(y.name))[0]!;
    // The emptiest node is L's: one participant to move, fewer than on either other node.
    expect(costs.map((c) => c.cost).sort()).toEqual([1, 2, 3]);
    expect(victim.name).toBe((await seats(l.id))[0]!.mediaNodeId);
    const before = new Map<string, string[]>();
    const moving = new Set<string>();
    for (const m of meetings) {
      const now = await seats(m.id);
      before.set(m.id, now.map((s) => s.id).sort());
      for (const seat of now) if (seat.mediaNodeId === victim.name) moving.add(seat.id);
    }
    expect(moving.size).toBe(victim.cost);
    const movers = bots.filter((x) => moving.has(x.id));
    const rebuilt = movers.map((x) => new Promise<void>((resolve) => x.client.on('reconnected', ({ rebuilt }) => rebuilt && resolve())));

    const drained = cluster.get(victim.name).process;
    const exited = new Promise<number | null>((resolve) => drained.once('exit', (code) => resolve(code)));
    drained.kill('SIGTERM');
    expect(await exited).toBe(0);
    mediaNodes.splice(mediaNodes.indexOf(victim.name), 1);
    await Promise.all(rebuilt);

    // Nobody dropped: the same seats in every meeting, none on the drained node, media flowing.
    for (const m of meetings) {
      const now = await seats(m.id);
      expect(now.map((s) => s.id).sort()).toEqual(before.get(m.id));
      for (const seat of now) expect(seat.mediaNodeId).not.toBe(victim.name);
    }
    // The moved participant was alone: a newcomer hears it, and is heard by it.
    const newcomer = await bot(l.id, 'L2', 750);
    pairs.push([l1, newcomer]);
    await Promise.all(pairs.flatMap(([x, y]) => [hears(x, y), hears(y, x)]));

    const after = decide(mediaNodes.length, await scrapeAll());
    console.log('after scale-in:', JSON.stringify(after));
    expect(after.desired).toBe(mediaNodes.length);
  }, 240_000);
});
