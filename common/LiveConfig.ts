import type { Registry } from 'prom-client';
import { z } from 'zod';
import { BackgroundLoop } from './BackgroundLoop.ts';
import { detach } from './detach.ts';
import type { EventBus } from './bus/EventBus.ts';
import { type Config, configSchema } from './config.ts';
import type { Logger } from './logger.ts';
import { gauge } from './metrics.ts';
import type { StateStore } from './state/StateStore.ts';

/**
 * The config centre: settings an operator may change on a running deployment. A change is
 * stored (so processes started later get it too) and pushed on the bus to every process, which
 * applies it to its Config in place; code that reads the Config at the time of use sees it.
 */
/**
 * Each live setting has bounds: a typo (an extra digit or three) sent to every process at once
 * must be refused, not applied. The bounds are documented in docs/operations.md.
 */
export const LIVE_BOUNDS = {
  /** Characters; a socket.io message is at most 256 KiB anyway. */
  CHAT_MAX_LENGTH: { min: 1, max: 10_000 },
  /** Milliseconds a dropped participant's seat is kept: 1 s to 10 min. */
  RECONNECT_GRACE_MS: { min: 1_000, max: 600_000 },
  /** Join tokens per client address a minute. */
  JOIN_RATE_LIMIT: { min: 1, max: 10_000 },
  /** Milliseconds of silence before a phone call is hung up: 1 s to 10 min. */
  SIP_RTP_TIMEOUT_MS: { min: 1_000, max: 600_000 },
  /** Bytes of one upload: 1 KiB to 1 GiB. */
  FILES_MAX_BYTES: { min: 1024, max: 1024 ** 3 },
  /** Bytes of a meeting's files: 1 KiB to 10 GiB. */
  FILES_QUOTA_BYTES: { min: 1024, max: 10 * 1024 ** 3 },
} as const;

const bounded = (name: keyof typeof LIVE_BOUNDS) => z.number().int().min(LIVE_BOUNDS[name].min).max(LIVE_BOUNDS[name].max).optional();

export const liveSettingsSchema = z
  .object({
    LOG_LEVEL: configSchema.shape.LOG_LEVEL.unwrap().optional(),
    CHAT_MAX_LENGTH: bounded('CHAT_MAX_LENGTH'),
    RECONNECT_GRACE_MS: bounded('RECONNECT_GRACE_MS'),
    JOIN_RATE_LIMIT: bounded('JOIN_RATE_LIMIT'),
    SIP_RTP_TIMEOUT_MS: bounded('SIP_RTP_TIMEOUT_MS'),
    FILES_MAX_BYTES: bounded('FILES_MAX_BYTES'),
    FILES_QUOTA_BYTES: bounded('FILES_QUOTA_BYTES'),
  })
  .strict();

export type LiveSettings = z.infer<typeof liveSettingsSchema>;

const CHANNEL = 'config';
const KEY = 'config:live';
/** Incremented with every change: a process compares it with the version it applied. */
const VERSION_KEY = 'config:live:version';

export class LiveConfig {
  #off?: () => Promise<void>;
  #applied = -1;
  readonly #loop: BackgroundLoop;

  private readonly config: Config;
  private readonly store: StateStore;
  private readonly bus: EventBus;
  private readonly logger: Logger;
  constructor(
    config: Config,
    store: StateStore,
    bus: EventBus,
    logger: Logger,
    options: { resyncMs?: number; metrics?: Registry } = {},
  ) {
    this.config = config;
    this.store = store;
    this.bus = bus;
    this.logger = logger;
    // The push on the bus is only a nudge: a process that missed it (cut off from Redis when
    // it went out) still finds the new version here, and at once on reconnect (resync).
    this.#loop = new BackgroundLoop({ name: 'config-centre', intervalMs: options.resyncMs ?? 5000, logger, metrics: options.metrics }, () => this.#sync('stored'));
    if (options.metrics) {
      const live = this;
      gauge(options.metrics, {
        name: 'convene_config_version',
        help: 'Version of the live configuration this process has applied (0: none changed yet); processes that differ for long missed a change',
        collect() {
          this.set(Math.max(0, live.version));
        },
      });
    }
  }

  /** The version of the stored settings this process applied last; -1 before the first read. */
  get version(): number {
    return this.#applied;
  }

  /** Applies what is stored, then follows changes. */
  async start(): Promise<void> {
    await this.#sync('stored');
    this.#off = await this.bus.subscribe(CHANNEL, () => detach(this.logger, 'reading the live configuration', this.#loop.runNow()));
    this.#loop.start();
  }

  /** Reads the stored settings again now (Redis is back); never rejects. */
  resync(): Promise<void> {
    return this.#loop.runNow();
  }

  async current(): Promise<LiveSettings> {
    const raw = await this.store.hashGetAll(KEY);
    const values = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, JSON.parse(v)]));
    const parsed = liveSettingsSchema.safeParse(values);
    return parsed.success ? parsed.data : {};
  }

  /** Validates, stores and pushes a change; returns the settings now in force. */
  async change(settings: unknown): Promise<LiveSettings> {
    const parsed = liveSettingsSchema.parse(settings);
    for (const [key, value] of Object.entries(parsed)) await this.store.hashSet(KEY, key, JSON.stringify(value));
    const version = await this.store.incr(VERSION_KEY);
    await this.bus.publish(CHANNEL, { version });
    // In force in this process before the answer, whenever the bus delivers the nudge.
    await this.#loop.runNow();
    return this.current();
  }

  async stop(): Promise<void> {
    this.#loop.stop();
    await this.#off?.();
  }

  async #sync(how: string): Promise<void> {
    const version = Number((await this.store.get(VERSION_KEY)) ?? 0);
    // Not `>`: a Redis that came back empty restarts the count, and its next change must apply.
    if (version === this.#applied) return;
    const settings = await this.current();
    this.#applied = version;
    this.#apply(settings, how, version);
  }

  #apply(settings: LiveSettings, how: string, version: number): void {
    if (Object.keys(settings).length === 0) return;
    Object.assign(this.config, settings);
    if (settings.LOG_LEVEL) this.logger.level = settings.LOG_LEVEL;
    this.logger.info({ settings, how, version }, 'live configuration applied');
  }
}
