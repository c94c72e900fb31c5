import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A private redis-server on a free high port, for tests that stop and restart Redis (the
 * shared one on 6379 must never be touched). `stop` kills it at once (an outage); `start`
 * brings it back on the same port, empty unless appendonly kept its data.
 */
export class PrivateRedis {
  readonly port: number;
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'convene-redis-'));
  #process?: ChildProcess;

  private constructor(port: number) {
    this.port = port;
  }

  static async create(): Promise<PrivateRedis> {
    for (let tries = 0; tries < 50; tries++) {
      const port = 16400 + Math.floor(Math.random() * 600);
      if (await isFree(port)) return new PrivateRedis(port);
    }
    throw new Error('no free port in 16400-16999 for a private redis-server');
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#process !== undefined && this.#process.exitCode === null;
  }

  /** Starts it; with appendonly the data written before the last stop is loaded again. */
  async start(options: { appendonly?: boolean } = {}): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', options.appendonly ? 'yes' : 'no', '--appendfsync', 'always', '--protected-mode', 'no'];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.#process = child;
    // Never leave a redis-server behind, even if the test process dies first.
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    child.once('exit', () => process.off('exit', kill));
    const deadline = Date.now() + 10_000;
    while (!(await answers(this.port))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error('redis-server did not come up');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL: an outage with no goodbye. Data survives only in the append-only file. */
  async stop(): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Starts empty next time: forgets what the append-only file kept. */
  wipe(): void {
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir);
  }

  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
