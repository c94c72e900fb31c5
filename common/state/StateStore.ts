/**
 * The only place tiers keep shared state. Deliberately small: strings, hashes and sets with
 * expiry, plus one atomic compare-and-set, which is enough for locks, owner-only deletes and
 * versioned writes. Values are strings; callers serialise.
 */
export interface StateStore {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<string | null>;
  /** Returns false only when `onlyIfAbsent` is set and the key exists. */
  set(key: string, value: string, options?: SetOptions): Promise<boolean>;
  /** Returns true when the key existed. */
  del(key: string): Promise<boolean>;
  /**
   * Atomically replaces the string at `key` if it currently equals `expected` (null: absent).
   * `next` null deletes. Returns whether the swap happened.
   */
  compareAndSet(key: string, expected: string | null, next: string | null, options?: { ttlMs?: number }): Promise<boolean>;
  /** Sets a time to live in ms on an existing key of any type; false when absent. */
  expire(key: string, ttlMs: number): Promise<boolean>;
  /** Remaining time to live in ms; -1 without expiry, -2 when absent (Redis PTTL semantics). */
  ttl(key: string): Promise<number>;
  incr(key: string): Promise<number>;

  hashSet(key: string, field: string, value: string): Promise<void>;
  hashGet(key: string, field: string): Promise<string | null>;
  hashDel(key: string, field: string): Promise<boolean>;
  hashGetAll(key: string): Promise<Record<string, string>>;
  /** Number of fields; 0 when absent (HLEN). */
  hashLength(key: string): Promise<number>;

  setAdd(key: string, member: string): Promise<boolean>;
  setRemove(key: string, member: string): Promise<boolean>;
  setMembers(key: string): Promise<string[]>;

  /** Appends and keeps only the newest `maxLength` items (a capped log, e.g. chat). */
  listPush(key: string, value: string, options?: { maxLength?: number }): Promise<number>;
  /** Items from `start` to `stop` inclusive; negative indexes count from the end (LRANGE). */
  listRange(key: string, start: number, stop: number): Promise<string[]>;

  /** Resolves when the store answers now; rejects with `store_unavailable` otherwise (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface SetOptions {
  ttlMs?: number;
  onlyIfAbsent?: boolean;
}

export class WrongTypeError extends Error {
  constructor(key: string) {
    super(`WRONGTYPE key ${key} holds a value of another type`);
    this.name = 'WrongTypeError';
  }
}
