import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';
import type { RedisTarget } from './redis.ts';

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

/** proxy-addr's names for address ranges, accepted in a TRUST_PROXY list. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Which hops in front of us may be believed about the client address: `false` (none), a hop
 * count, or the proxies' addresses. Never `true`: that takes the left-most X-Forwarded-For,
 * which the client writes itself, so a rotating value defeats every per-address limit.
 */
const trustProxy = z
  .string()
  .trim()
  .default('false')
  .superRefine((value, ctx) => {
    if (value === 'false' || /^\d+$/.test(value)) return;
    if (value === 'true') {
      ctx.addIssue({ code: 'custom', message: 'must be a hop count (e.g. 1 behind one proxy) or the proxies\' addresses/CIDRs, not true: true believes the client\'s own X-Forwarded-For' });
      return;
    }
    const bad = value.split(',').map((e) => e.trim()).find((e) => !isProxyAddress(e));
    if (bad !== undefined) ctx.addIssue({ code: 'custom', message: `must be false, a hop count, or a comma-separated list of proxy addresses or CIDRs; "${bad}" is none of these` });
  })
  .transform((value): false | number | string[] => {
    if (value === 'false') return false;
    if (/^\d+$/.test(value)) return Number(value) === 0 ? false : Number(value);
    return value.split(',').map((e) => e.trim());
  });

const ipv4 = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, 'must be an IPv4 address');

export const configSchema = z.object({
  PORT: port(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: z.url('must be a URL such as http://127.0.0.1:3000').optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/.+/, 'must be a redis:// or rediss:// URL')
    .optional(),
  /** Sentinel mode instead of REDIS_URL: `host:port,host:port,...` of the Sentinels. */
  REDIS_SENTINELS: z
    .string()
    .regex(/^\s*[^\s,:]+:\d{1,5}\s*(,\s*[^\s,:]+:\d{1,5}\s*)*$/, 'must be a comma-separated list of host:port')
    .optional(),
  /** The primary's name in the Sentinels' `sentinel monitor` line. */
  REDIS_SENTINEL_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'may hold only letters, digits, "_", "." and "-"')
    .default('mymaster'),
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  /** Sentinel mode: password of the primary and replicas (REDIS_URL carries its own). */
  REDIS_PASSWORD: z.string().min(1).optional(),
  REDIS_PREFIX: z.string().default('convene:'),
  NODE_ID: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'may hold only letters, digits, "_", "." and "-"').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  API_KEY: z.string().min(8, 'must be at least 8 characters').optional(),
  /** The operator's key for /v1/admin/*; apps' API_KEY does not open it. */
  ADMIN_API_KEY: z.string().min(8, 'must be at least 8 characters').optional(),
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
  /** SIGTERM on a gateway: refuse new calls and wait this long at most for those in progress to end. */
  SIP_DRAIN_TIMEOUT_MS: positiveInt(10 * 60_000),
  /** How often a media node samples its consumers' stats and workers' CPU for /metrics. */
  MEDIA_STATS_INTERVAL_MS: positiveInt(10_000),
  /** Per participant, enforced on the media node: a client cannot fill a node on its own. */
  MEDIA_MAX_TRANSPORTS_PER_PARTICIPANT: positiveInt(4),
  MEDIA_MAX_PRODUCERS_PER_PARTICIPANT: positiveInt(6),
  MEDIA_MAX_CONSUMERS_PER_PARTICIPANT: positiveInt(400),
  PLACEMENT_STRATEGY: z.enum(['least-loaded', 'random']).default('least-loaded'),
  /** How other processes reach this one's HTTP server (internal media calls). */
  INTERNAL_URL: z.url('must be a URL such as http://10.0.0.5:3000').optional(),
  RECONNECT_GRACE_MS: positiveInt(30_000),
  ROUTER_IDLE_TIMEOUT_MS: positiveInt(60_000),
  /** A meeting nobody has been in for this long is ended by the cleaner, releasing its PIN and state. */
  MEETING_IDLE_END_MS: positiveInt(24 * 3600_000),
  /** How long an ended meeting's record is kept for late readers (GET shows endedAt; join gets 410). */
  MEETING_ENDED_RETENTION_MS: positiveInt(24 * 3600_000),
  /** How long a seat change waits for the meeting's admission lock before answering 503 busy. */
  SEAT_LOCK_WAIT_MS: positiveInt(5000),
  REQUEST_TIMEOUT_MS: positiveInt(10_000),
  /**
   * Open mode: anyone who can reach the site may start a meeting from the root page, without the
   * API key (for a team's own instance behind its VPN or SSO proxy). Off by default.
   */
  OPEN_MEETINGS: z.stringbool().default(false),
  /** Meetings one address may start in an hour in open mode. */
  OPEN_MEETINGS_PER_HOUR: positiveInt(10),
  CHAT_MAX_LENGTH: positiveInt(2000),
  /** Reactions one participant may send in 10 seconds; more get `rate_limited`. */
  REACTIONS_PER_10S: positiveInt(10),
  /** Uploads and slide images: a directory on disk or a mounted volume shared by api and files nodes. */
  FILES_DIR: z.string().min(1).default('.data/files'),
  FILES_MAX_BYTES: positiveInt(50 * 1024 * 1024),
  FILES_QUOTA_BYTES: positiveInt(200 * 1024 * 1024),
  /** An upload with no byte for this long is ended (408) and what it wrote removed. */
  FILES_UPLOAD_IDLE_TIMEOUT_MS: positiveInt(30_000),
  /** An upload not finished after this long is ended the same way, however slowly it trickles. */
  FILES_UPLOAD_TIMEOUT_MS: positiveInt(10 * 60_000),
  /** Uploads under way at once in one meeting, and from one participant (429 past them). */
  FILES_UPLOADS_PER_MEETING: positiveInt(4),
  FILES_UPLOADS_PER_PARTICIPANT: positiveInt(2),
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
  /**
   * Kubernetes only: keep this pod's `controller.kubernetes.io/pod-deletion-cost` annotation equal
   * to its load (media: participants, push: sockets, gateway-sip: calls), so that a scale-in
   * removes the emptiest pod first. Needs POD_NAME, POD_NAMESPACE and an API token allowed to
   * patch pods (deploy/k8s/components/autoscaling). Off outside Kubernetes.
   */
  K8S_POD_DELETION_COST: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  /** This pod's name and namespace (downward API), for K8S_POD_DELETION_COST. */
  POD_NAME: z.string().min(1).optional(),
  POD_NAMESPACE: z.string().min(1).optional(),
  /** How often the pod-deletion-cost annotation is brought up to date (only when it changed). */
  K8S_POD_DELETION_COST_INTERVAL_MS: positiveInt(10_000),
  /** Believe X-Forwarded-For only from the proxies in front of us: `false`, a hop count, or their addresses/CIDRs. */
  TRUST_PROXY: trustProxy,
  /**
   * TURN (coturn's `use-auth-secret`): the shared secret from which the api derives each
   * participant's time-limited TURN credential. Unset: no TURN server is offered.
   */
  TURN_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  /** The TURN/STUN URIs handed to clients, comma-separated, e.g. `turn:turn.example.com:3478,turns:turn.example.com:443?transport=tcp`. */
  TURN_URLS: z
    .string()
    .trim()
    .regex(/^(turns?|stuns?):[^\s,]+(\s*,\s*(turns?|stuns?):[^\s,]+)*$/, 'must be a comma-separated list of turn:, turns: or stun: URIs')
    .transform((value) => value.split(',').map((url) => url.trim()))
    .optional(),
  /** How long a TURN credential is valid; a client that stays longer keeps its allocation (coturn checks at Allocate and refresh). */
  TURN_TTL_SECONDS: positiveInt(24 * 3600),
});

export type RawConfig = z.infer<typeof configSchema>;

export interface Config extends RawConfig {
  nodeId: string;
  publicUrl: string;
  internalUrl: string;
  apiKey: string;
  adminApiKey: string;
  jwtSecret: string;
  /** Where Redis is (REDIS_URL or REDIS_SENTINELS); absent in the embedded mode. */
  redis?: RedisTarget;
  /** True when neither REDIS_URL nor REDIS_SENTINELS is set: all state is in this process. */
  embedded: boolean;
}

export class ConfigError extends Error {
  readonly variable: string;
  readonly problem: string;
  constructor(
    variable: string,
    problem: string,
  ) {
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
  if (raw.TURN_SECRET !== undefined && raw.TURN_URLS === undefined) throw new ConfigError('TURN_URLS', 'must be set with TURN_SECRET (where clients find the TURN server)');
  if (raw.K8S_POD_DELETION_COST && (raw.POD_NAME === undefined || raw.POD_NAMESPACE === undefined)) {
    throw new ConfigError('K8S_POD_DELETION_COST', 'needs POD_NAME and POD_NAMESPACE (downward API: metadata.name, metadata.namespace)');
  }
  const redis = redisTarget(raw);
  const embedded = redis === undefined;
  return {
    ...raw,
    nodeId: raw.NODE_ID ?? `${os.hostname()}-${process.pid}`,
    publicUrl: (raw.PUBLIC_URL ?? `http://${raw.HOST}:${raw.PORT}`).replace(/\/$/, ''),
    internalUrl: (raw.INTERNAL_URL ?? `http://${raw.HOST === '0.0.0.0' ? '127.0.0.1' : raw.HOST}:${raw.PORT}`).replace(/\/$/, ''),
    apiKey: raw.API_KEY ?? 'dev-api-key',
    adminApiKey: raw.ADMIN_API_KEY ?? 'dev-admin-key',
    // Without JWT_SECRET, a Redis deployment agrees on one generated secret kept in Redis
    // (see resolveSharedSecret); this value is only the embedded mode's.
    jwtSecret: raw.JWT_SECRET ?? randomBytes(32).toString('hex'),
    redis,
    embedded,
  };
}

function redisTarget(raw: RawConfig): RedisTarget | undefined {
  if (raw.REDIS_SENTINELS === undefined) {
    if (raw.REDIS_PASSWORD !== undefined) throw new ConfigError('REDIS_PASSWORD', 'applies only with REDIS_SENTINELS (put the password in REDIS_URL)');
    if (raw.REDIS_SENTINEL_PASSWORD !== undefined) throw new ConfigError('REDIS_SENTINEL_PASSWORD', 'applies only with REDIS_SENTINELS');
    return raw.REDIS_URL === undefined ? undefined : { kind: 'url', url: raw.REDIS_URL };
  }
  if (raw.REDIS_URL !== undefined) throw new ConfigError('REDIS_SENTINELS', 'must not be set together with REDIS_URL (choose one)');
  const sentinels = raw.REDIS_SENTINELS.split(',').map((entry) => {
    const [host = '', port = ''] = entry.trim().split(':');
    const number = Number(port);
    if (number < 1 || number > 65535) throw new ConfigError('REDIS_SENTINELS', `port must be between 1 and 65535 (got ${JSON.stringify(entry.trim())})`);
    return { host, port: number };
  });
  return {
    kind: 'sentinel',
    sentinels,
    name: raw.REDIS_SENTINEL_NAME,
    password: raw.REDIS_PASSWORD,
    sentinelPassword: raw.REDIS_SENTINEL_PASSWORD,
  };
}
