/** Every process's memory, event-loop lag, handles and objects, and the deployment's Redis keys, at one moment. */
import { listKeys, type Target } from '../target.ts';

export interface ProcessReading {
  rssMb: number;
  heapMb: number;
  /** What V8 holds for its heap (used or not): RSS follows this high-water mark, not the heap in use. */
  heapCommittedMb: number;
  lagP99Ms: number;
  handles: number;
  /** Push processes: connected sockets. */
  sockets?: number;
  /** Media processes: mediasoup routers, transports, producers and consumers. */
  mediasoup?: { routers: number; transports: number; producers: number; consumers: number };
}

export interface Reading {
  /** Minutes since the soak began. */
  minute: number;
  processes: Record<string, ProcessReading>;
  redisKeys: number;
  /** The keys themselves, kept only for the quiet moments before and after the churn. */
  keyNames?: string[];
}

const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);

async function readProcess(url: string): Promise<ProcessReading> {
  const [text, health] = await Promise.all([
    fetch(`${url}/metrics`).then((r) => r.text()),
    fetch(`${url}/healthz`).then((r) => r.json() as Promise<{ sockets?: number; mediaLoad?: ProcessReading['mediasoup'] }>),
  ]);
  const reading: ProcessReading = {
    rssMb: metric(text, 'process_resident_memory_bytes') / 2 ** 20,
    heapMb: metric(text, 'nodejs_heap_size_used_bytes') / 2 ** 20,
    heapCommittedMb: metric(text, 'nodejs_heap_size_total_bytes') / 2 ** 20,
    lagP99Ms: metric(text, 'nodejs_eventloop_lag_p99_seconds') * 1000,
    handles: metric(text, 'nodejs_active_handles_total'),
  };
  if (health.sockets !== undefined) reading.sockets = health.sockets;
  if (health.mediaLoad) {
    const { routers, transports, producers, consumers } = health.mediaLoad;
    reading.mediasoup = { routers, transports, producers, consumers };
  }
  return reading;
}

export async function sample(target: Target, startedAt: number, keepKeys = false): Promise<Reading> {
  const entries = await Promise.all(target.processes.map(async (p) => [p.name, await readProcess(p.url)] as const));
  const keys = target.redis ? await listKeys(target.redis.url, target.redis.prefix) : [];
  return { minute: (Date.now() - startedAt) / 60_000, processes: Object.fromEntries(entries), redisKeys: target.redis ? keys.length : Number.NaN, ...(keepKeys ? { keyNames: keys } : {}) };
}

/** Least-squares slope of y against x (units of y per unit of x). */
export function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  return sxx === 0 ? 0 : sxy / sxx;
}
