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

/** Keeps one node's record fresh until stopped. */
export class NodeHeartbeat<Load> {
  #timer?: NodeJS.Timeout;

  private readonly registry: NodeRegistry<Load>;
  private readonly describe: () => Omit<NodeRecord<Load>, 'kind' | 'updatedAt'>;
  private readonly onError: (error: unknown) => void;
  constructor(
    registry: NodeRegistry<Load>,
    describe: () => Omit<NodeRecord<Load>, 'kind' | 'updatedAt'>,
    onError: (error: unknown) => void,
  ) {
    this.registry = registry;
    this.describe = describe;
    this.onError = onError;
  }

  async start(): Promise<void> {
    await this.beat();
    this.#timer = setInterval(() => {
      this.beat().catch(this.onError);
    }, HEARTBEAT_MS);
    this.#timer.unref();
  }

  beat(): Promise<void> {
    return this.registry.write(this.describe());
  }

  async stop(options: { remove?: boolean } = {}): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (options.remove) await this.registry.remove(this.describe().id);
  }
}
