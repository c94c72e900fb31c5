import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from '../../common/testing.ts';

export interface SentinelSetup {
  /** The value for REDIS_SENTINELS. */
  sentinels: string;
  name: string;
  primaryPort: number;
  replicaPort: number;
  /** kill -9 the current primary's redis-server. */
  killPrimary(): void;
  /** The primary's port as the Sentinels say now. */
  primaryPortNow(): Promise<number>;
  /** Every process killed and the directory removed; safe to call twice and after a failure. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/**
 * One primary, one replica and three Sentinels (quorum 2) on loopback high ports of their own,
 * never the shared 6379. Sentinels declare the primary down after a second, so a test sees a
 * whole failover in a few seconds.
 */
export async function startSentinelSetup(options: { name?: string; downAfterMs?: number } = {}): Promise<SentinelSetup> {
  const name = options.name ?? 'convene-test';
  const downAfterMs = options.downAfterMs ?? 1000;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'convene-sentinel-'));
  const children: ChildProcess[] = [];
  const logs: string[] = [];
  // A process of ours must never outlive the test run, whatever the way it ends.
  const killAll = () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const stop = async () => {
    process.off('exit', killAll);
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const base = await freePortRun(5);
    const [primaryPort, replicaPort, ...sentinelPorts] = [base, base + 1, base + 2, base + 3, base + 4] as [number, number, number, number, number];
    const run = (label: string, command: string, args: string[]) => {
      const child = spawn(command, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      const keep = (chunk: Buffer) => {
        logs.push(`[${label}] ${chunk.toString()}`);
        if (logs.length > 300) logs.shift();
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      children.push(child);
      return child;
    };
    const server = (port: number, extra: string[] = []) =>
      run(`redis-${port}`, 'redis-server', ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir, ...extra]);
    server(primaryPort);
    server(replicaPort, ['--replicaof', HOST, String(primaryPort)]);
    await waitFor(async () => (await info(replicaPort, 'replication')).includes('master_link_status:up'), { timeoutMs: 10_000, what: 'the replica to sync' });

    for (const port of sentinelPorts) {
      // A Sentinel rewrites its configuration file, so each gets one of its own.
      const file = path.join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        file,
        [
          `port ${port}`,
          `bind ${HOST}`,
          `dir ${dir}`,
          `sentinel monitor ${name} ${HOST} ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      run(`sentinel-${port}`, 'redis-sentinel', [file]);
    }
    // A failover needs every Sentinel to know the replica and a majority of the others.
    await waitFor(
      async () => {
        for (const port of sentinelPorts) {
          const state = await sentinelMaster(port, name);
          if (state['num-slaves'] !== '1' || state['num-other-sentinels'] !== '2') return false;
        }
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'the Sentinels to find the replica and each other' },
    );

    return {
      sentinels: sentinelPorts.map((port) => `${HOST}:${port}`).join(','),
      name,
      primaryPort,
      replicaPort,
      killPrimary: () => {
        const primary = children[0];
        primary?.kill('SIGKILL');
      },
      primaryPortNow: async () => {
        for (const port of sentinelPorts) {
          const answer = await withClient(port, (redis) => redis.call('SENTINEL', 'get-master-addr-by-name', name)).catch(() => null);
          if (Array.isArray(answer)) return Number(answer[1]);
        }
        throw new Error('no Sentinel answers');
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${logs.join('')}`);
  }
}

async function withClient<T>(port: number, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

async function info(port: number, section: string): Promise<string> {
  return withClient(port, (redis) => redis.info(section));
}

async function sentinelMaster(port: number, name: string): Promise<Record<string, string>> {
  const flat = (await withClient(port, (redis) => redis.call('SENTINEL', 'master', name))) as string[];
  const state: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) state[String(flat[i])] = String(flat[i + 1]);
  return state;
}

/** `count` consecutive free TCP ports in 16400–16999, the range kept for tests' own servers. */
async function freePortRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 16400 + Math.floor(Math.random() * (600 - count));
    let free = true;
    for (let port = base; port < base + count && free; port++) free = await isFree(port);
    if (free) return base;
  }
  throw new Error('no free ports in 16400-16999');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, HOST, () => probe.close(() => resolve(true)));
  });
}
