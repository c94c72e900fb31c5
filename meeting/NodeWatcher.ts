import type { Logger } from '../common/logger.js';
import { isAlive, type NodeKind, NodeRegistry } from '../common/NodeRegistry.js';
import { tryLock } from '../common/state/lock.js';
import type { StateStore } from '../common/state/StateStore.js';
import type { MeetingRepository } from './MeetingRepository.js';
import type { SeatService } from './SeatService.js';

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

  constructor(
    private readonly store: StateStore,
    private readonly repo: MeetingRepository,
    private readonly seats: SeatService,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.#registries = { media: new NodeRegistry(store, 'media'), push: new NodeRegistry(store, 'push') };
    this.#gateways = new NodeRegistry(store, 'gateway-sip');
  }

  start(): void {
    this.#timer = setInterval(() => void this.check(), this.intervalMs);
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
