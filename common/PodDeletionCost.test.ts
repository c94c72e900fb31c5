import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { loadConfig } from './config.ts';
import { PodDeletionCost, podDeletionCost, podDeletionCostFor } from './PodDeletionCost.ts';

const logger = createLogger({ level: 'silent', role: 'test', nodeId: 'test' });

describe('pod-deletion-cost', () => {
  it('is the load, as an int32, never negative', () => {
    expect(podDeletionCost(0)).toBe(0);
    expect(podDeletionCost(7)).toBe(7);
    expect(podDeletionCost(-3)).toBe(0);
    expect(podDeletionCost(Number.NaN)).toBe(0);
    expect(podDeletionCost(1e12)).toBe(2_147_483_647);
  });

  it('patches only when the load moved', async () => {
    let load = 3;
    const written: number[] = [];
    const patcher = new PodDeletionCost(() => load, async (cost) => void written.push(cost), { intervalMs: 60_000, logger });
    await patcher.update();
    await patcher.update();
    load = 1;
    await patcher.update();
    expect(written).toEqual([3, 1]);
  });

  it('retries a failed patch on the next pass', async () => {
    const written: number[] = [];
    let fail = true;
    const patcher = new PodDeletionCost(() => 2, async (cost) => {
      if (fail) throw new Error('apiserver unreachable');
      written.push(cost);
    }, { intervalMs: 60_000, logger });
    await expect(patcher.update()).rejects.toThrow('apiserver unreachable');
    fail = false;
    await patcher.update();
    expect(written).toEqual([2]);
  });

  it('is off unless K8S_POD_DELETION_COST=true, and then needs the pod name and namespace', async () => {
    expect(await podDeletionCostFor(loadConfig({}), () => 1, logger)).toBeUndefined();
    expect(() => loadConfig({ K8S_POD_DELETION_COST: 'true' })).toThrow(/POD_NAME and POD_NAMESPACE/);
    expect(() => loadConfig({ K8S_POD_DELETION_COST: 'yes' })).toThrow(/K8S_POD_DELETION_COST/);
  });
});
