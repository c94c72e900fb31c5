import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { Logger } from '../common/logger.ts';
import { detach } from '../common/detach.ts';

export interface WorkerPoolOptions {
  size: number;
  logLevel?: types.WorkerLogLevel;
  listenIp: string;
  announcedAddress?: string;
  /** Worker i listens on UDP and TCP port `base + i`: one port per worker, easy to expose. */
  webRtcServerPortBase?: number;
  rtcMinPort: number;
  rtcMaxPort: number;
  /** Delay before replacing a dead worker; grows while replacements keep failing. */
  restartDelayMs?: number;
}

/** Live counters for placement and the node registry. */
export interface WorkerLoad {
  routers: number;
  transports: number;
  producers: number;
  consumers: number;
}

export interface PooledWorker {
  readonly index: number;
  readonly worker: types.Worker;
  readonly webRtcServer?: types.WebRtcServer;
  readonly load: WorkerLoad;
}

export interface WorkerPoolEvents {
  workerStarted: [PooledWorker];
  workerDied: [{ index: number; pid: number; error: Error }];
}

/**
 * One mediasoup worker per slot. A worker that dies is logged and replaced in the same slot, so
 * its WebRtcServer port is reused; whoever held routers on it hears `workerDied` and re-places
 * them.
 */
export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
  readonly #slots: Array<PooledWorker | undefined>;
  #closed = false;

  private readonly options: WorkerPoolOptions;
  private readonly logger: Logger;
  constructor(
    options: WorkerPoolOptions,
    logger: Logger,
  ) {
    super();
    this.options = options;
    this.logger = logger;
    this.#slots = new Array(options.size).fill(undefined);
  }

  async start(): Promise<void> {
    await Promise.all(this.#slots.map((_, index) => this.#spawn(index)));
  }

  get workers(): PooledWorker[] {
    return this.#slots.filter((slot): slot is PooledWorker => slot !== undefined);
  }

  get size(): number {
    return this.workers.length;
  }

  /** The live worker with the least load, by consumers then routers. */
  leastLoaded(exclude: ReadonlySet<number> = new Set()): PooledWorker | undefined {
    let best: PooledWorker | undefined;
    for (const candidate of this.workers) {
      if (exclude.has(candidate.index)) continue;
      if (!best || score(candidate.load) < score(best.load)) best = candidate;
    }
    return best;
  }

  totalLoad(): WorkerLoad {
    const total: WorkerLoad = { routers: 0, transports: 0, producers: 0, consumers: 0 };
    for (const { load } of this.workers) {
      total.routers += load.routers;
      total.transports += load.transports;
      total.producers += load.producers;
      total.consumers += load.consumers;
    }
    return total;
  }

  /** Closes every worker and waits (up to 5 s) for their processes to be gone. */
  async close(): Promise<void> {
    this.#closed = true;
    const exits = this.workers.map(
      ({ worker }) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5000);
          worker.once('subprocessclose', () => {
            clearTimeout(timer);
            resolve();
          });
          worker.close();
        }),
    );
    this.#slots.fill(undefined);
    await Promise.all(exits);
  }

  async #spawn(index: number): Promise<PooledWorker> {
    const signalListeners = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
    const worker = await mediasoup.createWorker({
      logLevel: this.options.logLevel ?? 'warn',
      rtcMinPort: this.options.rtcMinPort,
      rtcMaxPort: this.options.rtcMaxPort,
      appData: { index },
    });
    // mediasoup (since 3.19.22) closes each worker when this process gets SIGINT or SIGTERM. A
    // media node drains on SIGTERM, keeping its calls until they end, and closes the pool itself
    // afterwards: take back the listeners createWorker added.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      for (const listener of process.listeners(signal)) {
        if (!signalListeners[signal].includes(listener)) process.removeListener(signal, listener);
      }
    }
    let webRtcServer: types.WebRtcServer | undefined;
    if (this.options.webRtcServerPortBase !== undefined) {
      const port = this.options.webRtcServerPortBase + index;
      const common = { ip: this.options.listenIp, announcedAddress: this.options.announcedAddress, port };
      try {
        webRtcServer = await worker.createWebRtcServer({
          listenInfos: [
            { protocol: 'udp', ...common },
            { protocol: 'tcp', ...common },
          ],
        });
      } catch (error) {
        worker.close();
        throw error;
      }
    }
    const pooled: PooledWorker = { index, worker, webRtcServer, load: trackLoad(worker) };
    worker.on('died', (error) => this.#onDied(pooled, error));
    this.#slots[index] = pooled;
    this.logger.info({ workerIndex: index, workerPid: worker.pid }, 'mediasoup worker started');
    this.emit('workerStarted', pooled);
    return pooled;
  }

  #onDied(pooled: PooledWorker, error: Error): void {
    if (this.#slots[pooled.index] === pooled) this.#slots[pooled.index] = undefined;
    this.logger.error({ workerIndex: pooled.index, workerPid: pooled.worker.pid, err: error }, 'mediasoup worker died; replacing it');
    this.emit('workerDied', { index: pooled.index, pid: pooled.worker.pid, error });
    detach(this.logger, 'replacing a worker', this.#replace(pooled.index, this.options.restartDelayMs ?? 100));
  }

  async #replace(index: number, delayMs: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (this.#closed || this.#slots[index] !== undefined) return;
    try {
      await this.#spawn(index);
    } catch (error) {
      this.logger.error({ workerIndex: index, err: error }, 'replacing mediasoup worker failed; will retry');
      detach(this.logger, 'replacing a worker', this.#replace(index, Math.min(delayMs * 2, 10_000)));
    }
  }
}

function score(load: WorkerLoad): number {
  return load.consumers + load.producers + load.routers * 10;
}

/** Counts from mediasoup's observer events, so they stay right whoever creates the objects. */
function trackLoad(worker: types.Worker): WorkerLoad {
  const load: WorkerLoad = { routers: 0, transports: 0, producers: 0, consumers: 0 };
  worker.observer.on('newrouter', (router) => {
    load.routers++;
    router.observer.once('close', () => load.routers--);
    router.observer.on('newtransport', (transport) => {
      load.transports++;
      transport.observer.once('close', () => load.transports--);
      transport.observer.on('newproducer', (producer) => {
        load.producers++;
        producer.observer.once('close', () => load.producers--);
      });
      transport.observer.on('newconsumer', (consumer) => {
        load.consumers++;
        consumer.observer.once('close', () => load.consumers--);
      });
    });
  });
  return load;
}
