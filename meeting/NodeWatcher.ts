import type { Logger } from '../common/logger.ts';
import { isAlive, type NodeKind, NodeRegistry } from '../common/NodeRegistry.ts';
import { tryLock } from '../common/state/lock.ts';
import type { StateStore } from '../common/state/StateStore.ts';
import type { MeetingRepository } from './MeetingRepository.ts';
import type { SeatService } from './SeatService.ts';
import { detach } from '../common/detach.ts';

/**
 * Notices media and push nodes that stopped heartbeating (crashed, or drained and gone) while
 * participants still depend on them, and moves those participants. One meeting node at a time
 * does it, under a lease.
 */
export class NodeWatcher {
  #timer?: NodeJS.Timeout;
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
  ) {
    this.store = store;
    this.repo = repo;
    this.seats = seats;
    this.intervalMs = intervalMs;
    this.logger = logger;
    this.#registries = { media: new NodeRegistry(store, 'media'), push: new NodeRegistry(store, 'push') };
    this.#gateways = new NodeRegistry(store, 'gateway-sip');
  }

  start(): void {
    this.#timer = setInterval(() => detach(this.logger, 'node watcher check', this.check()), this.intervalMs);
    this.#timer.unref();
  }

  async check(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const lock = await tryLock(this.store, 'node-watcher', Math.max(5000, this.intervalMs * 5)).catch(() => null);
    try {
      if (!lock) return;
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
    } catch (error) {
      this.logger.error({ err: error }, 'node check failed');
    } finally {
      await lock?.release().catch(() => undefined);
      this.#running = false;
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}
