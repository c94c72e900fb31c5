interface Entry {
  misses: number;
  windowStart: number;
  blockedUntil: number;
  /** How many times this key was blocked: each block lasts twice the one before. */
  strikes: number;
}

/**
 * Limits PIN guessing per trunk: after `maxMisses` wrong PINs within a minute the trunk's PIN
 * lookups are refused for a while, doubling each time. While blocked a right PIN gets the same
 * answer as a wrong one, so guessing fast learns nothing.
 */
export class PinGuard {
  readonly #entries = new Map<string, Entry>();
  private readonly maxMisses: number;
  private readonly windowMs: number;
  private readonly baseBlockMs: number;
  private readonly maxBlockMs: number;

  constructor(maxMisses: number, options: { windowMs?: number; baseBlockMs?: number; maxBlockMs?: number } = {}) {
    this.maxMisses = maxMisses;
    this.windowMs = options.windowMs ?? 60_000;
    this.baseBlockMs = options.baseBlockMs ?? 60_000;
    this.maxBlockMs = options.maxBlockMs ?? 3600_000;
  }

  blocked(key: string, now = Date.now()): boolean {
    return (this.#entries.get(key)?.blockedUntil ?? 0) > now;
  }

  miss(key: string, now = Date.now()): void {
    this.#sweep(now);
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { misses: 0, windowStart: now, blockedUntil: 0, strikes: 0 };
      this.#entries.set(key, entry);
    }
    if (now - entry.windowStart > this.windowMs) {
      entry.misses = 0;
      entry.windowStart = now;
    }
    entry.misses++;
    if (entry.misses >= this.maxMisses) {
      entry.blockedUntil = now + Math.min(this.maxBlockMs, this.baseBlockMs * 2 ** entry.strikes);
      entry.strikes++;
      entry.misses = 0;
      entry.windowStart = now;
    }
  }

  #sweep(now: number): void {
    if (this.#entries.size < 10_000) return;
    for (const [key, entry] of this.#entries) {
      if (entry.blockedUntil < now && now - entry.windowStart > this.windowMs) this.#entries.delete(key);
    }
  }
}
