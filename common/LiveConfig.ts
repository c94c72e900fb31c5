import { z } from 'zod';
import type { EventBus } from './bus/EventBus.ts';
import { type Config, configSchema } from './config.ts';
import type { Logger } from './logger.ts';
import type { StateStore } from './state/StateStore.ts';

/**
 * The config centre: settings an operator may change on a running deployment. A change is
 * stored (so processes started later get it too) and pushed on the bus to every process, which
 * applies it to its Config in place; code that reads the Config at the time of use sees it.
 */
export const liveSettingsSchema = z
  .object({
    LOG_LEVEL: configSchema.shape.LOG_LEVEL.unwrap().optional(),
    CHAT_MAX_LENGTH: z.number().int().positive().optional(),
    RECONNECT_GRACE_MS: z.number().int().positive().optional(),
    JOIN_RATE_LIMIT: z.number().int().positive().optional(),
    SIP_RTP_TIMEOUT_MS: z.number().int().positive().optional(),
    FILES_MAX_BYTES: z.number().int().positive().optional(),
    FILES_QUOTA_BYTES: z.number().int().positive().optional(),
  })
  .strict();

export type LiveSettings = z.infer<typeof liveSettingsSchema>;

const CHANNEL = 'config';
const KEY = 'config:live';

export class LiveConfig {
  #off?: () => Promise<void>;

  private readonly config: Config;
  private readonly store: StateStore;
  private readonly bus: EventBus;
  private readonly logger: Logger;
  constructor(
    config: Config,
    store: StateStore,
    bus: EventBus,
    logger: Logger,
  ) {
    this.config = config;
    this.store = store;
    this.bus = bus;
    this.logger = logger;
  }

  /** Applies what is stored, then follows changes. */
  async start(): Promise<void> {
    this.#apply(await this.current(), 'stored');
    this.#off = await this.bus.subscribe(CHANNEL, (message) => {
      const parsed = liveSettingsSchema.safeParse(message);
      if (parsed.success) this.#apply(parsed.data, 'pushed');
    });
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
    await this.bus.publish(CHANNEL, parsed);
    return this.current();
  }

  async stop(): Promise<void> {
    await this.#off?.();
  }

  #apply(settings: LiveSettings, how: string): void {
    if (Object.keys(settings).length === 0) return;
    Object.assign(this.config, settings);
    if (settings.LOG_LEVEL) this.logger.level = settings.LOG_LEVEL;
    this.logger.info({ settings, how }, 'live configuration applied');
  }
}
