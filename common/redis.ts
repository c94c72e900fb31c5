import { Redis } from 'ioredis';

export class RedisUnavailableError extends Error {
  constructor(url: string, cause: string) {
    super(`cannot reach Redis at ${redactUrl(url)} (REDIS_URL): ${cause}`);
    this.name = 'RedisUnavailableError';
  }
}

/**
 * Connects and proves the server answers before returning. At start-up an unreachable Redis is
 * a configuration error, so it fails fast instead of retrying forever; once connected, ioredis
 * reconnects on its own.
 */
export async function connectRedis(url: string, options: { timeoutMs?: number; name?: string } = {}): Promise<Redis> {
  const timeoutMs = options.timeoutMs ?? 3000;
  let connected = false;
  const redis = new Redis(url, {
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
  redis.on('error', (error: Error) => {
    lastError = error.message || (error as NodeJS.ErrnoException).code || String(error);
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
    const message = lastError !== 'no answer' ? lastError : error instanceof Error ? error.message : String(error);
    throw new RedisUnavailableError(url, message);
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
