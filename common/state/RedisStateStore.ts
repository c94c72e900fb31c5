import type { Redis } from 'ioredis';
import { toStoreError } from './storeErrors.ts';
import { type SetOptions, type StateStore, WrongTypeError } from './StateStore.ts';

// Runs inside Redis so that the comparison and the write cannot interleave with another node.
const COMPARE_AND_SET = `
local current = redis.call('GET', KEYS[1])
if current == false then current = nil end
local expected = ARGV[1] == '1' and ARGV[2] or nil
if current ~= expected then return 0 end
if ARGV[3] == '1' then
  local ttl = tonumber(ARGV[5])
  if ttl > 0 then redis.call('SET', KEYS[1], ARGV[4], 'PX', ttl) else redis.call('SET', KEYS[1], ARGV[4]) end
else
  redis.call('DEL', KEYS[1])
end
return 1
`;

/** Every key is prefixed so that deployments and test runs can share one Redis. */
export class RedisStateStore implements StateStore {
  readonly kind = 'redis' as const;

  private readonly redis: Redis;
  private readonly prefix: string;
  constructor(
    redis: Redis,
    prefix: string,
  ) {
    this.redis = redis;
    this.prefix = prefix;
  }

  async get(key: string): Promise<string | null> {
    return this.#wrap(key, () => this.redis.get(this.#k(key)));
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    const k = this.#k(key);
    const { ttlMs, onlyIfAbsent } = options;
    const result = await this.#wrap(key, () => {
      if (ttlMs !== undefined && onlyIfAbsent) return this.redis.set(k, value, 'PX', ttlMs, 'NX');
      if (ttlMs !== undefined) return this.redis.set(k, value, 'PX', ttlMs);
      if (onlyIfAbsent) return this.redis.set(k, value, 'NX');
      return this.redis.set(k, value);
    });
    return result === 'OK';
  }

  async del(key: string): Promise<boolean> {
    return (await this.#wrap(key, () => this.redis.del(this.#k(key)))) > 0;
  }

  async compareAndSet(key: string, expected: string | null, next: string | null, options: { ttlMs?: number } = {}): Promise<boolean> {
    const result = await this.#wrap(key, () =>
      this.redis.eval(
        COMPARE_AND_SET,
        1,
        this.#k(key),
        expected === null ? '0' : '1',
        expected ?? '',
        next === null ? '0' : '1',
        next ?? '',
        String(options.ttlMs ?? 0),
      ),
    );
    return result === 1;
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    return (await this.#wrap(key, () => this.redis.pexpire(this.#k(key), ttlMs))) === 1;
  }

  async ttl(key: string): Promise<number> {
    return this.#wrap(key, () => this.redis.pttl(this.#k(key)));
  }

  async incr(key: string): Promise<number> {
    return this.#wrap(key, () => this.redis.incr(this.#k(key)));
  }

  async hashSet(key: string, field: string, value: string): Promise<void> {
    await this.#wrap(key, () => this.redis.hset(this.#k(key), field, value));
  }

  async hashGet(key: string, field: string): Promise<string | null> {
    return this.#wrap(key, () => this.redis.hget(this.#k(key), field));
  }

  async hashDel(key: string, field: string): Promise<boolean> {
    return (await this.#wrap(key, () => this.redis.hdel(this.#k(key), field))) > 0;
  }

  async hashGetAll(key: string): Promise<Record<string, string>> {
    return this.#wrap(key, () => this.redis.hgetall(this.#k(key)));
  }

  async hashLength(key: string): Promise<number> {
    return this.#wrap(key, () => this.redis.hlen(this.#k(key)));
  }

  async setAdd(key: string, member: string): Promise<boolean> {
    return (await this.#wrap(key, () => this.redis.sadd(this.#k(key), member))) > 0;
  }

  async setRemove(key: string, member: string): Promise<boolean> {
    return (await this.#wrap(key, () => this.redis.srem(this.#k(key), member))) > 0;
  }

  async setMembers(key: string): Promise<string[]> {
    return this.#wrap(key, () => this.redis.smembers(this.#k(key)));
  }

  async listPush(key: string, value: string, options: { maxLength?: number } = {}): Promise<number> {
    const k = this.#k(key);
    if (options.maxLength === undefined) return this.#wrap(key, () => this.redis.rpush(k, value));
    const maxLength = options.maxLength;
    const results = await this.#wrap(key, () => this.redis.multi().rpush(k, value).ltrim(k, -maxLength, -1).exec());
    const [error, length] = results?.[0] ?? [null, 0];
    if (error) throw error.message.includes('WRONGTYPE') ? new WrongTypeError(key) : toStoreError(error);
    return Number(length);
  }

  async listRange(key: string, start: number, stop: number): Promise<string[]> {
    return this.#wrap(key, () => this.redis.lrange(this.#k(key), start, stop));
  }

  /** Proves the server answers now (readiness). */
  async ping(): Promise<void> {
    await this.#wrap('', () => this.redis.ping());
  }

  async close(): Promise<void> {
    // The connection is owned by whoever created it (see backends.ts).
  }

  #k(key: string): string {
    return this.prefix + key;
  }

  async #wrap<T>(key: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (error) {
      if (error instanceof Error && error.message.includes('WRONGTYPE')) throw new WrongTypeError(key);
      throw toStoreError(error);
    }
  }
}
