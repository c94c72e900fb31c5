import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface RunningServer {
  url: string;
  port: number;
  process: ChildProcess;
  logs: string[];
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the real entry point as a child process and waits until /healthz answers. */
/** The last 500 chunks a child wrote, for the error when it fails; echoed with TEST_SERVER_LOGS. */
export function keepLogs(child: ChildProcess): string[] {
  const logs: string[] = [];
  const keep = (chunk: Buffer) => {
    logs.push(chunk.toString());
    if (logs.length > 500) logs.shift();
    if (process.env.TEST_SERVER_LOGS) process.stderr.write(chunk);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return logs;
}

export async function startServer(options: {
  port: number;
  roles?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Where the server listens and is reached (default 127.0.0.1): a lab host's address, say. */
  host?: string;
  /** How to start the process (default: here; a lab host's `spawn` runs it in its namespace). */
  spawn?: (command: string, args: string[], options: SpawnOptions) => ChildProcess;
}): Promise<RunningServer> {
  const { port } = options;
  const host = options.host ?? '127.0.0.1';
  // A server left behind on this port (another checkout's test) would answer our health checks
  // and the test would silently run against someone else's code.
  const stale = await fetch(`http://${host}:${port}/healthz`).then(
    () => true,
    () => false,
  );
  if (stale) throw new Error(`port ${port} already has a server; stop it or move this test's ports`);
  const child = (options.spawn ?? spawn)(process.execPath, ['main.ts', '--role', options.roles ?? 'all'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: host,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      MEDIA_LISTEN_IP: host,
      // Each test server its own SIP port, so that servers of different tests never collide.
      SIP_PORT: String(port + 2000),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = keepLogs(child);
  const url = `http://${host}:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${logs.join('')}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not come up: ${logs.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    url,
    port,
    process: child,
    logs,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function api<T = unknown>(
  base: string,
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

export async function createMeeting(base: string, body: Record<string, unknown> = {}): Promise<{ id: string; hostKey: string; pin: string; joinUrl: string }> {
  const res = await api<{ id: string; hostKey: string; pin: string; joinUrl: string }>(base, 'POST', '/v1/meetings', body, { 'x-api-key': 'dev-api-key' });
  if (res.status !== 201) throw new Error(`create meeting failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
