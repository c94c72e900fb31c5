import type { Registry } from 'prom-client';
import { LeasedSweeper, type SweepOutcome } from '../common/LeasedSweeper.ts';
import type { Logger } from '../common/logger.ts';
import { isAlive, type NodeKind, NodeRegistry, STALE_MS } from '../common/NodeRegistry.ts';
import type { StateStore } from '../common/state/StateStore.ts';
import type { MeetingRepository } from './MeetingRepository.ts';
import type { SeatService } from './SeatService.ts';

/**
 * Notices media and push nodes that stopped heartbeating (crashed, or drained and gone) while
 * participants still depend on them, and moves those participants. One meeting node at a time
 * does it, under the LeasedSweeper's lease.
 */
export class NodeWatcher {
  readonly #sweeper: LeasedSweeper;
  readonly #registries: Record<'media' | 'push', NodeRegistry>;
  /** SIP gateways hold their callers' seats as push nodes hold sockets. */
  readonly #gateways: NodeRegistry;

  private readonly repo: MeetingRepository;
  private readonly seats: SeatService;
  private readonly logger: Logger;
  constructor(
    store: StateStore,
    repo: MeetingRepository,
    seats: SeatService,
    intervalMs: number,
    logger: Logger,
    metrics?: Registry,
  ) {
    this.repo = repo;
    this.seats = seats;
    this.logger = logger;
    this.#registries = { media: new NodeRegistry(store, 'media'), push: new NodeRegistry(store, 'push') };
    this.#gateways = new NodeRegistry(store, 'gateway-sip');
    this.#sweeper = new LeasedSweeper({ name: 'node-watcher', intervalMs, store, logger, metrics }, () => this.#pass());
  }

  start(): void {
    this.#sweeper.start();
  }

  /** One check under the lease; rejects when the store fails (the loop counts that and backs off). */
  check(): Promise<SweepOutcome> {
    return this.#sweeper.sweep();
  }

  async #pass(): Promise<void> {
    // Right after an outage every record is stale because nobody could heartbeat: give the
    // nodes time to write again before calling any of them dead.
    if (this.#sweeper.healthyForMs < STALE_MS) return;
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
  }

  stop(): void {
    this.#sweeper.stop();
  }
}
