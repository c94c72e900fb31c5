import { Redis, type RedisOptions } from 'ioredis';

/** Where Redis is: one server by URL, or a primary that Sentinels name and fail over. */
export type RedisTarget =
  | { kind: 'url'; url: string }
  | {
      kind: 'sentinel';
      sentinels: Array<{ host: string; port: number }>;
      /** The primary's group name in the Sentinels' `sentinel monitor` line. */
      name: string;
      /** Password of the primary and replicas. */
      password?: string;
      /** Password of the Sentinels themselves. */
      sentinelPassword?: string;
    };

export class RedisUnavailableError extends Error {
  constructor(target: RedisTarget, cause: string) {
    super(`cannot reach Redis at ${describeRedisTarget(target)}: ${cause}`);
    this.name = 'RedisUnavailableError';
  }
}

/** For logs and errors: where, never a password, and the variable that says so. */
export function describeRedisTarget(target: RedisTarget): string {
  if (target.kind === 'url') return `${target.url.replace(/\/\/([^@/]*)@/, '//***@')} (REDIS_URL)`;
  const list = target.sentinels.map((s) => `${s.host}:${s.port}`).join(',');
  return `primary "${target.name}" of Sentinels ${list} (REDIS_SENTINELS)`;
}

/**
 * Options every product connection shares, whatever it is for. After a failover a client can
 * still hold a connection to the old primary if it was demoted rather than killed (a
 * partition heals): its writes answer READONLY, so the client reconnects, asks the Sentinels
 * again and resends the command.
 */
const COMMON: RedisOptions = {
  reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
};

/**
 * ioredis options for the target plus the caller's own. The one place that knows how a
 * Sentinel deployment is reached, so that every connection (state, bus, socket.io adapter,
 * BullMQ) fails over alike. For a URL the result keeps `url`, which BullMQ understands; use
 * createRedis for a client of our own.
 */
export function redisOptions(target: RedisTarget, extra: RedisOptions = {}): RedisOptions & { url?: string } {
  if (target.kind === 'url') return { ...COMMON, ...extra, url: target.url };
  return {
    ...COMMON,
    ...extra,
    sentinels: target.sentinels,
    name: target.name,
    password: target.password,
    sentinelPassword: target.sentinelPassword,
    // Not ioredis' failover detector: its +switch-master handler disconnects the connector even
    // while a reconnect is already asking the Sentinels, which rejects that connect and leaves
    // the client ended for good (seen in test/sentinel.e2e.test.ts after a kill -9 of the
    // primary). A dead primary resets our sockets anyway, and a demoted one answers READONLY.
    failoverDetector: false,
  };
}

/** A client for the target; not connected until the first command unless lazyConnect is off. */
export function createRedis(target: RedisTarget, extra: RedisOptions = {}): Redis {
  const { url, ...options } = redisOptions(target, extra);
  return url === undefined ? new Redis(options) : new Redis(url, options);
}

/**
 * Connects and proves the server answers before returning. At start-up an unreachable Redis is
 * a configuration error, so it fails fast instead of retrying forever; once connected, ioredis
 * reconnects on its own (through the Sentinels when there are some).
 */
export async function connectRedis(target: RedisTarget, options: { timeoutMs?: number; name?: string } = {}): Promise<Redis> {
  const timeoutMs = options.timeoutMs ?? 3000;
  let connected = false;
  const redis = createRedis(target, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    connectionName: options.name,
    // During an outage a command fails at once (no offline queue) or after commandTimeout on a
    // connection that went silent, so callers answer 503 quickly instead of hanging or piling up.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: 1500,
    retryStrategy: (attempt) => (connected ? Math.min(attempt * 100, 2000) : null),
  });
  let lastError = 'no answer';
  let sentinelError: string | undefined;
  redis.on('error', (error: Error) => {
    lastError = error.message || (error as NodeJS.ErrnoException).code || String(error);
  });
  // ioredis sums up a round of Sentinels as "All sentinels are unreachable. Retrying..." even
  // when they answered but know no such primary; each Sentinel's own answer says more.
  redis.on('sentinelError', (error: Error) => {
    sentinelError = error.message;
  });
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)),
    ]);
    connected = true;
    return redis;
  } catch (error) {
    redis.disconnect();
    // The socket error (ECONNREFUSED, ENOTFOUND...) says more than ioredis' "Connection is closed".
    let message = lastError !== 'no answer' ? lastError : error instanceof Error ? error.message : String(error);
    if (target.kind === 'sentinel' && sentinelError !== undefined) {
      message = /invalid reply|No such master/.test(sentinelError)
        ? `the Sentinels know no primary named "${target.name}" (REDIS_SENTINEL_NAME)`
        : `no Sentinel answers (${sentinelError})`;
    }
    throw new RedisUnavailableError(target, message);
  }
}
