/**
 * What a load test runs against: a deployment named by the environment, or one it starts itself.
 *
 * - `CONVENE_URL` (and optionally `CONVENE_PUSH_URLS`, comma-separated): an existing deployment;
 *   nothing is started. Its `JOIN_RATE_LIMIT` must allow the run's joins from one address.
 * - otherwise `CONVENE_TARGET=embedded` (default): one process, every role, in-memory;
 *   `CONVENE_TARGET=cluster`: separate media, meeting, api and two push processes on Redis
 *   (`REDIS_URL`, default the local one, under a fresh key prefix that is removed afterwards).
 *
 * Profiles that read the processes they load (fan-out, media, soak) call {@link startCluster}.
 */
import { Redis } from 'ioredis';
import { TEST_REDIS_URL, testPrefix } from '../common/testing.ts';
import { Cluster, mediaNodeSpec } from '../test/support/cluster.ts';
import { type RunningServer, startServer } from '../test/support/server.ts';

export interface TargetProcess {
  name: string;
  url: string;
  pid?: number;
}

export interface Target {
  kind: 'external' | 'embedded' | 'cluster';
  /** Where the HTTP API answers. */
  apiUrl: string;
  /** Push nodes that clients connect socket.io to (the API's own URL when embedded). */
  pushUrls: string[];
  /** Processes this run started, for sampling; empty for an external target. */
  processes: TargetProcess[];
  /** The Redis and key prefix of a cluster target, for counting its keys. */
  redis?: { url: string; prefix: string };
  stop(): Promise<void>;
}

/**
 * Ports come from a base so that two runs (or a run and a test) can sit side by side: an
 * embedded target takes base…base+250, a cluster base…base+190 (processes from base, the media
 * node's ports from base+40).
 */
export interface TargetOptions {
  portBase: number;
  env?: Record<string, string>;
  /** Push processes in a cluster target. */
  pushNodes?: number;
  /** Extra environment of the push processes only (a profiler's flags). */
  pushEnv?: Record<string, string>;
  /** A SIP gateway process on this UDP/TCP port, for phone legs (cluster only). */
  sipPort?: number;
}

/** Targets started and not yet stopped, so that an interrupted run can stop them (see run.ts). */
const running = new Set<Target>();

export async function stopAllTargets(): Promise<void> {
  await Promise.all([...running].map((t) => t.stop()));
}

function tracked(target: Target): Target {
  running.add(target);
  const stop = target.stop;
  return {
    ...target,
    stop: async () => {
      running.delete(target);
      await stop();
    },
  };
}

/** Load tests join far more often than a person does; the per-address join limit must not refuse them. */
const LOAD_ENV = { JOIN_RATE_LIMIT: '1000000', LOG_LEVEL: 'warn' };

export async function startTarget(options: TargetOptions): Promise<Target> {
  const external = process.env.CONVENE_URL;
  if (external) {
    const pushUrls = process.env.CONVENE_PUSH_URLS?.split(',').filter(Boolean) ?? [external];
    return { kind: 'external', apiUrl: external, pushUrls, processes: [], stop: async () => undefined };
  }
  const kind = process.env.CONVENE_TARGET ?? 'embedded';
  if (kind === 'embedded') return startEmbedded(options);
  if (kind === 'cluster') return startCluster(options);
  throw new Error(`CONVENE_TARGET must be embedded or cluster (got ${kind})`);
}

async function startEmbedded(options: TargetOptions): Promise<Target> {
  const base = options.portBase;
  const server = await startServer({
    port: base,
    env: { ...LOAD_ENV, MEDIA_PORT_BASE: String(base + 100), MEDIA_RTC_MIN_PORT: String(base + 110), MEDIA_RTC_MAX_PORT: String(base + 250), SIP_PORT: String(base + 50), ...options.env },
  });
  return tracked({
    kind: 'embedded',
    apiUrl: server.url,
    pushUrls: [server.url],
    processes: [describe('all', server)],
    stop: () => server.stop('SIGINT'),
  });
}

/**
 * A deployment of separate processes on Redis, whatever the environment names: for the profiles
 * that watch the processes they load (fan-out, media, soak).
 */
export async function startCluster(options: TargetOptions): Promise<Target> {
  const base = options.portBase;
  const redisUrl = process.env.REDIS_URL ?? TEST_REDIS_URL;
  const prefix = testPrefix('loadtest');
  const cluster = new Cluster({ ...LOAD_ENV, REDIS_URL: redisUrl, REDIS_PREFIX: prefix, JWT_SECRET: 'loadtest-cluster-secret-long-enough-for-hs256', ...options.env });
  const pushNodes = options.pushNodes ?? 2;
  try {
    await Promise.all([cluster.start(mediaNodeSpec('media-1', base, base + 40)), cluster.start({ name: 'meeting-1', roles: 'meeting,files', port: base + 1 })]);
    const pushes = Array.from({ length: pushNodes }, (_, i) => cluster.start({ name: `push-${i + 1}`, roles: 'push', port: base + 10 + i, env: options.pushEnv }));
    const gateway = options.sipPort ? [cluster.start({ name: 'gateway-1', roles: 'gateway-sip', port: base + 3, env: { SIP_PORT: String(options.sipPort) } })] : [];
    await Promise.all([cluster.start({ name: 'api-1', roles: 'api', port: base + 2 }), ...pushes, ...gateway]);
  } catch (error) {
    await cluster.stopAll();
    await removeKeys(redisUrl, prefix);
    throw error;
  }
  const processes = [...cluster.processes.entries()].map(([name, server]) => describe(name, server));
  return tracked({
    kind: 'cluster',
    apiUrl: cluster.url('api-1'),
    pushUrls: processes.filter((p) => p.name.startsWith('push-')).map((p) => p.url),
    processes,
    redis: { url: redisUrl, prefix },
    stop: async () => {
      await cluster.stopAll();
      await removeKeys(redisUrl, prefix);
    },
  });
}

function describe(name: string, server: RunningServer): TargetProcess {
  return { name, url: server.url, pid: server.process.pid };
}

/** Only this run's keys: SCAN by its own prefix, never a flush of a shared server. */
export async function removeKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 })) if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
  } finally {
    redis.disconnect();
  }
}

/** This run's keys, without the prefix. */
export async function listKeys(url: string, prefix: string): Promise<string[]> {
  const redis = new Redis(url);
  const found: string[] = [];
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 })) found.push(...(keys as string[]).map((k) => k.slice(prefix.length)));
  } finally {
    redis.disconnect();
  }
  return found.sort();
}
