import type { Registry } from 'prom-client';
import { BackgroundLoop } from '../common/BackgroundLoop.ts';
import type { Logger } from '../common/logger.ts';
import { isAlive, type NodeKind, NodeRegistry, STALE_MS } from '../common/NodeRegistry.ts';
import { tryLock } from '../common/state/lock.ts';
import type { StateStore } from '../common/state/StateStore.ts';
import type { MeetingRepository } from './MeetingRepository.ts';
import type { SeatService } from './SeatService.ts';

/**
 * Notices media and push nodes that stopped heartbeating (crashed, or drained and gone) while
 * participants still depend on them, and moves those participants. One meeting node at a time
 * does it, under a lease.
 */
export class NodeWatcher {
  readonly #loop: BackgroundLoop;
  #running = false;
  readonly #registries: Record<'media' | 'push', NodeRegistry>;
  /** SIP gateways hold their callers' seats as push nodes hold sockets. */
  readonly #gateways: NodeRegistry;

  private readonly store: StateStore;
  private readonly repo: MeetingRepository;
  private readonly seats: SeatService;
  private readonly intervalMs: number;
  private readonly logger: Logger;
  constructor(
    store: StateStore,
    repo: MeetingRepository,
    seats: SeatService,
    intervalMs: number,
    logger: Logger,
    metrics?: Registry,
  ) {
    this.store = store;
    this.repo = repo;
    this.seats = seats;
    this.intervalMs = intervalMs;
    this.logger = logger;
    this.#registries = { media: new NodeRegistry(store, 'media'), push: new NodeRegistry(store, 'push') };
    this.#gateways = new NodeRegistry(store, 'gateway-sip');
    this.#loop = new BackgroundLoop({ name: 'node-watcher', intervalMs, logger, metrics }, () => this.check());
  }

  start(): void {
    this.#loop.start();
  }

  /** One check; rejects when the store fails, so that the loop counts it and backs off. */
  async check(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    let lock: Awaited<ReturnType<typeof tryLock>> = null;
    try {
      lock = await tryLock(this.store, 'node-watcher', Math.max(5000, this.intervalMs * 5));
      if (!lock) return;
      // Right after an outage every record is stale because nobody could heartbeat: give the
      // nodes time to write again before calling any of them dead.
      if (this.#loop.healthyForMs < STALE_MS) return;
      for (const kind of ['media', 'push'] as const satisfies NodeKind[]) {
        for (const nodeId of await this.repo.indexedNodes(kind)) {
          const record = (await this.#registries[kind].get(nodeId)) ?? (kind === 'push' ? await this.#gateways.get(nodeId) : null);
          if (record && isAlive(record)) continue;
          this.logger.warn({ kind, nodeId, lastSeen: record?.updatedAt ?? null }, 'node is gone; moving its participants');
          if (kind === 'media') await this.seats.mediaNodeLost(nodeId);
          else await this.seats.pushNodeLost(nodeId);
        }
        await this.#registries[kind].prune();
      }
      // A gateway that crashed never removes its own record.
      await this.#gateways.prune();
    } finally {
      await lock?.release().catch(() => undefined);
      this.#running = false;
    }
  }

  stop(): void {
    this.#loop.stop();
  }
}
