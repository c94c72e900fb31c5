import { type SetOptions, type StateStore, WrongTypeError } from './StateStore.ts';

type Entry =
  | { type: 'string'; value: string; expiresAt?: number }
  | { type: 'hash'; value: Map<string, string>; expiresAt?: number }
  | { type: 'set'; value: Set<string>; expiresAt?: number }
  | { type: 'list'; value: string[]; expiresAt?: number };

/**
 * The embedded backend. Expiry is lazy (checked on read) plus a periodic sweep, which keeps
 * observable behaviour identical to Redis for the contract tests.
 */
export class MemoryStateStore implements StateStore {
  readonly kind = 'memory' as const;
  readonly #entries = new Map<string, Entry>();
  readonly #sweeper: NodeJS.Timeout;

  constructor() {
    this.#sweeper = setInterval(() => this.#sweep(), 5000);
    this.#sweeper.unref();
  }

  async get(key: string): Promise<string | null> {
    const entry = this.#live(key);
    if (!entry) return null;
    if (entry.type !== 'string') throw new WrongTypeError(key);
    return entry.value;
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    if (options.onlyIfAbsent && this.#live(key)) return false;
    this.#entries.set(key, { type: 'string', value, expiresAt: expiry(options.ttlMs) });
    return true;
  }

  async del(key: string): Promise<boolean> {
    const existed = this.#live(key) !== undefined;
    this.#entries.delete(key);
    return existed;
  }

  async compareAndSet(key: string, expected: string | null, next: string | null, options: { ttlMs?: number } = {}): Promise<boolean> {
    const entry = this.#live(key);
    if (entry && entry.type !== 'string') throw new WrongTypeError(key);
    const current = entry ? entry.value : null;
    if (current !== expected) return false;
    if (next === null) this.#entries.delete(key);
    else this.#entries.set(key, { type: 'string', value: next, expiresAt: expiry(options.ttlMs) });
    return true;
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    const entry = this.#live(key);
    if (!entry) return false;
    entry.expiresAt = Date.now() + ttlMs;
    return true;
  }

  async ttl(key: string): Promise<number> {
    const entry = this.#live(key);
    if (!entry) return -2;
    return entry.expiresAt === undefined ? -1 : Math.max(0, entry.expiresAt - Date.now());
  }

  async incr(key: string): Promise<number> {
    const entry = this.#live(key);
    if (entry && entry.type !== 'string') throw new WrongTypeError(key);
    const current = entry ? Number(entry.value) : 0;
    if (!Number.isInteger(current)) throw new Error('ERR value is not an integer or out of range');
    const next = current + 1;
    this.#entries.set(key, { type: 'string', value: String(next), expiresAt: entry?.expiresAt });
    return next;
  }

  async hashSet(key: string, field: string, value: string): Promise<void> {
    this.#hash(key, true)?.set(field, value);
  }

  async hashGet(key: string, field: string): Promise<string | null> {
    return this.#hash(key, false)?.get(field) ?? null;
  }

  async hashDel(key: string, field: string): Promise<boolean> {
    const hash = this.#hash(key, false);
    if (!hash) return false;
    const existed = hash.delete(field);
    if (hash.size === 0) this.#entries.delete(key);
    return existed;
  }

  async hashGetAll(key: string): Promise<Record<string, string>> {
    return Object.fromEntries(this.#hash(key, false) ?? []);
  }

  async hashLength(key: string): Promise<number> {
    return this.#hash(key, false)?.size ?? 0;
  }

  async setAdd(key: string, member: string): Promise<boolean> {
    const set = this.#set(key, true) as Set<string>;
    if (set.has(member)) return false;
    set.add(member);
    return true;
  }

  async setRemove(key: string, member: string): Promise<boolean> {
    const set = this.#set(key, false);
    if (!set) return false;
    const existed = set.delete(member);
    if (set.size === 0) this.#entries.delete(key);
    return existed;
  }

  async setMembers(key: string): Promise<string[]> {
    return [...(this.#set(key, false) ?? [])];
  }

  async listPush(key: string, value: string, options: { maxLength?: number } = {}): Promise<number> {
    const entry = this.#live(key);
    if (entry && entry.type !== 'list') throw new WrongTypeError(key);
    const list = entry ? entry.value : [];
    if (!entry) this.#entries.set(key, { type: 'list', value: list });
    list.push(value);
    const length = list.length;
    if (options.maxLength !== undefined && list.length > options.maxLength) list.splice(0, list.length - options.maxLength);
    return length;
  }

  async listRange(key: string, start: number, stop: number): Promise<string[]> {
    const entry = this.#live(key);
    if (!entry) return [];
    if (entry.type !== 'list') throw new WrongTypeError(key);
    const n = entry.value.length;
    const from = Math.max(0, start < 0 ? n + start : start);
    const to = Math.min(n - 1, stop < 0 ? n + stop : stop);
    return from > to ? [] : entry.value.slice(from, to + 1);
  }

  /**
   * Every live key, for tests that check state is given back (Redis has SCAN for the same).
   * Not on the StateStore interface: product code never walks the whole store.
   */
  keys(): string[] {
    return [...this.#entries.keys()].filter((key) => this.#live(key) !== undefined);
  }

  async ping(): Promise<void> {
    // In this process: reachable as long as the process runs.
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #hash(key: string, create: boolean): Map<string, string> | undefined {
    const entry = this.#live(key);
    if (entry) {
      if (entry.type !== 'hash') throw new WrongTypeError(key);
      return entry.value;
    }
    if (!create) return undefined;
    const value = new Map<string, string>();
    this.#entries.set(key, { type: 'hash', value });
    return value;
  }

  #set(key: string, create: boolean): Set<string> | undefined {
    const entry = this.#live(key);
    if (entry) {
      if (entry.type !== 'set') throw new WrongTypeError(key);
      return entry.value;
    }
    if (!create) return undefined;
    const value = new Set<string>();
    this.#entries.set(key, { type: 'set', value });
    return value;
  }

  #sweep(): void {
    for (const key of this.#entries.keys()) this.#live(key);
  }
}

function expiry(ttlMs: number | undefined): number | undefined {
  return ttlMs === undefined ? undefined : Date.now() + ttlMs;
}
