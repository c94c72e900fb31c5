import { Counter, type CounterConfiguration, Gauge, type GaugeConfiguration, Histogram, type HistogramConfiguration, type Registry } from 'prom-client';

/**
 * Metrics of one process live in one registry. Roles run alone or all in one process, and
 * some metrics (the store's, the join counter) are wanted by several of them: each is made on
 * first use and found by name afterwards, so that a second role never registers it twice.
 * docs/operations.md lists every metric; test/metrics.e2e.test.ts checks the list against
 * live processes.
 */
function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function counter<L extends string>(registry: Registry, config: Omit<CounterConfiguration<L>, 'registers'>): Counter<L> {
  return once(registry, config.name, () => new Counter({ ...config, registers: [registry] }));
}

export function gauge<L extends string>(registry: Registry, config: Omit<GaugeConfiguration<L>, 'registers'>): Gauge<L> {
  return once(registry, config.name, () => new Gauge({ ...config, registers: [registry] }));
}

export function histogram<L extends string>(registry: Registry, config: Omit<HistogramConfiguration<L>, 'registers'>): Histogram<L> {
  return once(registry, config.name, () => new Histogram({ ...config, registers: [registry] }));
}

/** Seconds buckets for things a person waits for: joins, conversions. */
export const WAIT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120];
/** Seconds buckets for Redis round trips. */
export const COMMAND_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
