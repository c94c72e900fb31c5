import type { Registry } from 'prom-client';
import { BackgroundLoop } from './BackgroundLoop.ts';
import type { Logger } from './logger.ts';
import type { StateStore } from './state/StateStore.ts';

export type NodeKind = 'media' | 'push' | 'gateway-sip';
export type NodeState = 'serving' | 'draining';

export interface NodeRecord<Load = Record<string, number>> {
  id: string;
  kind: NodeKind;
  /** Where other tiers reach the node (its HTTP base URL). */
  url: string;
  state: NodeState;
  updatedAt: number;
  load: Load;
}

export const HEARTBEAT_MS = 2000;
/** Three missed heartbeats: the node is gone. */
export const STALE_MS = 6000;

/**
 * Which nodes of a kind exist and how loaded they are. Each node rewrites its own record every
 * HEARTBEAT_MS; a record older than STALE_MS is a dead node, whatever it says.
 */
export class NodeRegistry<Load = Record<string, number>> {
  private readonly store: StateStore;
  readonly kind: NodeKind;
  constructor(
    store: StateStore,
    kind: NodeKind,
  ) {
    this.store = store;
    this.kind = kind;
  }

  async write(record: Omit<NodeRecord<Load>, 'kind' | 'updatedAt'>): Promise<void> {
    const full: NodeRecord<Load> = { ...record, kind: this.kind, updatedAt: Date.now() };
    await this.store.hashSet(`nodes:${this.kind}`, record.id, JSON.stringify(full));
  }

  async remove(id: string): Promise<void> {
    await this.store.hashDel(`nodes:${this.kind}`, id);
  }

  async get(id: string): Promise<NodeRecord<Load> | null> {
    const raw = await this.store.hashGet(`nodes:${this.kind}`, id);
    return raw ? (JSON.parse(raw) as NodeRecord<Load>) : null;
  }

  async all(): Promise<NodeRecord<Load>[]> {
    const raw = await this.store.hashGetAll(`nodes:${this.kind}`);
    return Object.values(raw).map((r) => JSON.parse(r) as NodeRecord<Load>);
  }

  /** Alive and taking new work. */
  async available(now = Date.now()): Promise<NodeRecord<Load>[]> {
    return (await this.all()).filter((n) => isAlive(n, now) && n.state === 'serving');
  }

  async isAlive(id: string, now = Date.now()): Promise<boolean> {
    const record = await this.get(id);
    return record !== null && isAlive(record, now);
  }

  /** Forgets records long dead, so the hash does not grow forever. */
  async prune(now = Date.now(), olderThanMs = 10 * 60_000): Promise<void> {
    for (const record of await this.all()) if (now - record.updatedAt > olderThanMs) await this.remove(record.id);
  }
}

export function isAlive(record: NodeRecord<unknown>, now = Date.now()): boolean {
  return now - record.updatedAt <= STALE_MS;
}

/**
 * Keeps one node's record fresh until stopped. A failed write (the store is down) is retried
 * by the loop; `beat()` after a reconnect brings the record back at once.
 */
export class NodeHeartbeat<Load> {
  readonly #loop: BackgroundLoop;

  private readonly registry: NodeRegistry<Load>;
  private readonly describe: () => Omit<NodeRecord<Load>, 'kind' | 'updatedAt'>;
  constructor(
    registry: NodeRegistry<Load>,
    describe: () => Omit<NodeRecord<Load>, 'kind' | 'updatedAt'>,
    options: { logger: Pick<Logger, 'warn' | 'info'>; metrics?: Registry },
  ) {
    this.registry = registry;
    this.describe = describe;
    this.#loop = new BackgroundLoop({ name: `heartbeat-${registry.kind}`, intervalMs: HEARTBEAT_MS, ...options }, () => this.registry.write(this.describe()));
  }

  /** Writes the record once (start-up fails if it cannot), then keeps it fresh. */
  async start(): Promise<void> {
    await this.registry.write(this.describe());
    this.#loop.start();
  }

  /** Writes now (state changed, or the store is back); never rejects. */
  beat(): Promise<void> {
    return this.#loop.runNow();
  }

  async stop(options: { remove?: boolean } = {}): Promise<void> {
    this.#loop.stop();
    if (options.remove) await this.registry.remove(this.describe().id);
  }
}
