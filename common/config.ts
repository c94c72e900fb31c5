import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * Configuration comes only from the environment so that one container image serves every tier
 * and every deployment. Anything invalid stops the process before it binds a port.
 */
const port = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be between 1 and 65535')
    .max(65535, 'must be between 1 and 65535')
    .default(fallback);

const positiveInt = (fallback: number) =>
  z.coerce.number({ error: 'must be a number' }).int('must be an integer').positive('must be > 0').default(fallback);

const ipv4 = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, 'must be an IPv4 address');

export const configSchema = z.object({
  PORT: port(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: z.url('must be a URL such as http://127.0.0.1:3000').optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/.+/, 'must be a redis:// or rediss:// URL')
    .optional(),
  REDIS_PREFIX: z.string().default('convene:'),
  NODE_ID: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'may hold only letters, digits, "_", "." and "-"').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  API_KEY: z.string().min(8, 'must be at least 8 characters').optional(),
  JWT_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  JOIN_TOKEN_TTL_S: positiveInt(3600),
  MEDIA_WORKERS: positiveInt(os.availableParallelism()),
  MEDIA_LISTEN_IP: ipv4.default('127.0.0.1'),
  MEDIA_ANNOUNCED_ADDRESS: z.string().min(1).optional(),
  MEDIA_PORT_BASE: port(40000),
  MEDIA_RTC_MIN_PORT: port(41000),
  MEDIA_RTC_MAX_PORT: port(41999),
  MEDIA_CONSUMERS_PER_ROUTER: positiveInt(400),
  /** mediasoup's guidance: about 500 consumers per worker (one CPU core). */
  MEDIA_MAX_CONSUMERS_PER_WORKER: positiveInt(500),
  MEDIA_DRAIN_TIMEOUT_MS: positiveInt(10 * 60_000),
  PLACEMENT_STRATEGY: z.enum(['least-loaded', 'random']).default('least-loaded'),
  /** How other processes reach this one's HTTP server (internal media calls). */
  INTERNAL_URL: z.url('must be a URL such as http://10.0.0.5:3000').optional(),
  RECONNECT_GRACE_MS: positiveInt(30_000),
  ROUTER_IDLE_TIMEOUT_MS: positiveInt(60_000),
  REQUEST_TIMEOUT_MS: positiveInt(10_000),
  CHAT_MAX_LENGTH: positiveInt(2000),
  /** Uploads and slide images: a directory on disk or a mounted volume shared by api and files nodes. */
  FILES_DIR: z.string().min(1).default('.data/files'),
  FILES_MAX_BYTES: positiveInt(50 * 1024 * 1024),
  FILES_QUOTA_BYTES: positiveInt(200 * 1024 * 1024),
  FILES_CONVERT_TIMEOUT_MS: positiveInt(120_000),
  FILES_CONVERT_ATTEMPTS: positiveInt(3),
  FILES_WORKER_CONCURRENCY: positiveInt(1),
  /** A worker that holds a job this long without renewing its lock is presumed dead. */
  FILES_JOB_LOCK_MS: positiveInt(30_000),
  /** Files of a meeting that ended longer ago than this are removed by the cleaner. */
  FILES_RETENTION_MS: positiveInt(7 * 24 * 3600_000),
  SIP_PORT: port(5060),
  SIP_LISTEN_IP: ipv4.default('127.0.0.1'),
  /** Address put in SDP and Contact headers when the gateway is behind NAT. */
  SIP_ANNOUNCED_ADDRESS: z.string().min(1).optional(),
  /** Hang up a call that has sent no RTP for this long. */
  SIP_RTP_TIMEOUT_MS: positiveInt(30_000),
  /** Trunks allowed without a password: comma-separated IPv4 addresses. */
  SIP_ALLOWED_IPS: z.string().default('127.0.0.1'),
  /** Digest credentials for other trunks: `user:password,user2:password2`. */
  SIP_DIGEST_USERS: z.string().default(''),
  SIP_REALM: z.string().min(1).default('convene'),
  SIP_MAX_CALLS: positiveInt(500),
  /** INVITEs a second from one address before the gateway answers 503. */
  SIP_INVITE_RATE: positiveInt(20),
  SIP_IVR_TRIES: positiveInt(3),
  /** Calls one trunk (an allowlisted address or a digest user) may hold at once. */
  SIP_MAX_CALLS_PER_TRUNK: positiveInt(100),
  /** Phone calls one meeting may hold at once (dial-in and dial-out together). */
  SIP_MAX_CALLS_PER_MEETING: positiveInt(50),
  /** Wrong PINs a trunk may send a minute; then its PIN lookups stop for a minute, doubling. */
  SIP_PIN_GUESSES: positiveInt(10),
  /** Dial-out destinations: host names, `*.domain`, IPv4 addresses and CIDR blocks, comma-separated; empty: no dial-out. */
  SIP_DIAL_ALLOWLIST: z.string().default(''),
  /** Dial-outs one meeting may start a minute. */
  SIP_DIAL_RATE: positiveInt(10),
  /** A dial-out still ringing after this long is cancelled. */
  SIP_DIAL_TIMEOUT_MS: positiveInt(60_000),
  /** Join requests a minute from one client address. */
  JOIN_RATE_LIMIT: positiveInt(120),
  /** Believe X-Forwarded-For only behind a proxy that sets it; otherwise clients could forge it. */
  TRUST_PROXY: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
});

export type RawConfig = z.infer<typeof configSchema>;

export interface Config extends RawConfig {
  nodeId: string;
  publicUrl: string;
  internalUrl: string;
  apiKey: string;
  jwtSecret: string;
  /** True when no REDIS_URL is set: all state is in this process. */
  embedded: boolean;
}

export class ConfigError extends Error {
  readonly variable: string;
  readonly problem: string;
  constructor(
    variable: string,
    problem: string) {
    super(`invalid configuration: ${variable} ${problem}`);
    this.variable = variable;
    this.problem = problem;
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws a ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') cleaned[key] = value;
  }
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    const got = cleaned[variable];
    throw new ConfigError(variable, `${issue?.message ?? 'is invalid'}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`);
  }
  const raw = parsed.data;
  if (raw.MEDIA_RTC_MIN_PORT > raw.MEDIA_RTC_MAX_PORT) {
    throw new ConfigError('MEDIA_RTC_MIN_PORT', `must not exceed MEDIA_RTC_MAX_PORT (${raw.MEDIA_RTC_MAX_PORT})`);
  }
  const embedded = raw.REDIS_URL === undefined;
  return {
    ...raw,
    nodeId: raw.NODE_ID ?? `${os.hostname()}-${process.pid}`,
    publicUrl: (raw.PUBLIC_URL ?? `http://${raw.HOST}:${raw.PORT}`).replace(/\/$/, ''),
    internalUrl: (raw.INTERNAL_URL ?? `http://${raw.HOST === '0.0.0.0' ? '127.0.0.1' : raw.HOST}:${raw.PORT}`).replace(/\/$/, ''),
    apiKey: raw.API_KEY ?? 'dev-api-key',
    // Without JWT_SECRET, a Redis deployment agrees on one generated secret kept in Redis
    // (see resolveSharedSecret); this value is only the embedded mode's.
    jwtSecret: raw.JWT_SECRET ?? randomBytes(32).toString('hex'),
    embedded,
  };
}
