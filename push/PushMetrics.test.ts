import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PushMetrics } from './PushMetrics.ts';
import type { ClientSocket } from './SocketSession.ts';

const socketIssuedAgo = (ms: number) => ({ data: { claims: { ims: Date.now() - ms } } }) as unknown as ClientSocket;

async function firstMediaCount(registry: Registry): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'convene_join_first_media_seconds');
  return ((metric?.values as Array<{ metricName?: string; value: number }> | undefined)?.find((v) => v.metricName === 'convene_join_first_media_seconds_count')?.value) ?? 0;
}

describe('PushMetrics: time to first media', () => {
  it('counts a join that brought its consumers as first media, once per socket', async () => {
    const registry = new Registry();
    const metrics = new PushMetrics(registry, { sockets: () => 0, participantsByKind: () => new Map() });
    const fast = socketIssuedAgo(100);
    metrics.outcome(fast, 'join', 'ok', { consumers: [{ id: 'c1' }] });
    expect(await firstMediaCount(registry)).toBe(1);
    metrics.outcome(fast, 'consume', 'ok');
    expect(await firstMediaCount(registry)).toBe(1);
  });

  it('waits for a produce or consume after a join that brought none', async () => {
    const registry = new Registry();
    const metrics = new PushMetrics(registry, { sockets: () => 0, participantsByKind: () => new Map() });
    const slow = socketIssuedAgo(100);
    metrics.outcome(slow, 'join', 'ok', { consumers: [] });
    expect(await firstMediaCount(registry)).toBe(0);
    metrics.outcome(slow, 'produce', 'not_found');
    expect(await firstMediaCount(registry)).toBe(0);
    metrics.outcome(slow, 'produce', 'ok');
    expect(await firstMediaCount(registry)).toBe(1);
  });
});
