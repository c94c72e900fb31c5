import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import type { BotsReply, ReceiverRequest, SenderRequest } from '../rtp-bots.ts';
import { ROOT } from './config.ts';
import { children } from './processes.ts';

/** A child process of RTP bots (loadtest/rtp-bots.ts), a sender or a receiver, driven over IPC. */
export class Bots {
  readonly #waiters: Array<{ type: BotsReply['type']; resolve: (reply: BotsReply) => void }> = [];

  readonly child: ChildProcess;
  private constructor(child: ChildProcess) {
    this.child = child;
    child.on('message', (reply: BotsReply) => {
      const i = this.#waiters.findIndex((w) => w.type === reply.type);
      if (i !== -1) this.#waiters.splice(i, 1)[0]!.resolve(reply);
    });
  }

  static async start(role: 'sender' | 'receiver'): Promise<Bots> {
    const child = fork(path.join(ROOT, 'loadtest/rtp-bots.ts'), [role], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.add(child);
    child.once('exit', () => children.delete(child));
    const bots = new Bots(child);
    await bots.#expect('ready', 20_000);
    return bots;
  }

  async request<T extends BotsReply['type']>(message: SenderRequest | ReceiverRequest, reply: T, timeoutMs = 10_000): Promise<Extract<BotsReply, { type: T }>> {
    if (!this.child.connected) throw new Error(`rtp bots: process ${this.child.pid} is gone`);
    const answer = this.#expect(reply, timeoutMs);
    this.child.send(message);
    return (await answer) as Extract<BotsReply, { type: T }>;
  }

  #expect(type: BotsReply['type'], timeoutMs: number): Promise<BotsReply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`rtp bots: no ${type} within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({
        type,
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
      });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    if (this.child.connected) this.child.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}
