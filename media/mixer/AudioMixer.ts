import { Worker } from 'node:worker_threads';
import type { Logger } from '../../common/logger.ts';
import type { MixerCommand, MixerEvent } from './protocol.ts';
import { detach } from '../../common/detach.ts';

/**
 * The main thread's handle on the mixer thread. The thread starts with the first phone leg of
 * any meeting on this node, and is replaced if it ever dies.
 */
export class AudioMixer {
  #worker?: Worker;
  #ready?: Promise<number>;
  #closed = false;
  /** A replacement thread binds the same port, so that the inputs' transports need no change. */
  #lastPort = 0;
  #statsWaiters: Array<(stats: Extract<MixerEvent, { type: 'stats' }>) => void> = [];
  /** Commands to replay into a replacement thread, keyed so that removals cancel additions. */
  readonly #state = new Map<string, MixerCommand>();

  private readonly listenIp: string;
  private readonly logger: Logger;
  constructor(
    listenIp: string,
    logger: Logger,
  ) {
    this.listenIp = listenIp;
    this.logger = logger;
  }

  /** The UDP port on `listenIp` where inputs must send their RTP. */
  port(): Promise<number> {
    this.#ready ??= this.#start();
    return this.#ready;
  }

  async send(command: MixerCommand): Promise<void> {
    this.#remember(command);
    await this.port();
    this.#worker?.postMessage(command);
  }

  async stats(): Promise<Extract<MixerEvent, { type: 'stats' }> | null> {
    if (!this.#worker) return null;
    return new Promise((resolve) => {
      this.#statsWaiters.push(resolve);
      this.#worker?.postMessage({ type: 'stats' } satisfies MixerCommand);
    });
  }

  /** Asks the thread to stop between ticks; terminates it only if it does not within a second. */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'stop' } satisfies MixerCommand);
    const timer = setTimeout(() => detach(this.logger, 'terminating the mixer thread', worker.terminate()), 1000);
    await exited;
    clearTimeout(timer);
  }

  #start(): Promise<number> {
    // Node strips types itself, so the thread runs whichever form this file runs as: the
    // TypeScript source in development and tests, the compiled .js once built.
    const isTs = import.meta.url.endsWith('.ts');
    const entry = new URL(`./mixerThread.${isTs ? 'ts' : 'js'}`, import.meta.url);
    const worker = new Worker(entry, { workerData: { listenIp: this.listenIp, port: this.#lastPort } });
    this.#worker = worker;
    return new Promise((resolve, reject) => {
      worker.on('message', (event: MixerEvent) => {
        if (event.type === 'ready') {
          this.#lastPort = event.port;
          this.logger.info({ port: event.port }, 'mixer thread ready');
          for (const command of this.#state.values()) worker.postMessage(command);
          resolve(event.port);
        } else if (event.type === 'stats') this.#statsWaiters.shift()?.(event);
      });
      worker.on('error', (error) => {
        this.logger.error({ err: error }, 'mixer thread failed');
        reject(error);
      });
      worker.on('exit', (code) => {
        if (this.#closed) return;
        this.logger.error({ code }, 'mixer thread exited; restarting it');
        const restarted = this.#start();
        restarted.catch(() => undefined);
        this.#ready = restarted;
      });
    });
  }

  #remember(command: MixerCommand): void {
    switch (command.type) {
      case 'addInput':
        this.#state.set(`in:${command.mixId}:${command.ssrc}`, command);
        break;
      case 'removeInput':
        this.#state.delete(`in:${command.mixId}:${command.ssrc}`);
        break;
      case 'addOutput':
        this.#state.set(`out:${command.mixId}:${command.outputId}`, command);
        break;
      case 'removeOutput':
        this.#state.delete(`out:${command.mixId}:${command.outputId}`);
        break;
      case 'removeMix':
        for (const key of [...this.#state.keys()]) if (key.includes(`:${command.mixId}:`)) this.#state.delete(key);
        break;
      default:
        break;
    }
  }
}
