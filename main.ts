import { parseArgs } from 'node:util';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createBackends, resolveSharedSecret } from './common/backends.ts';
import { type Config, ConfigError, loadConfig } from './common/config.ts';
import { detach } from './common/detach.ts';
import { registerHealthRoutes } from './common/health.ts';
import { createHttpServer } from './common/http.ts';
import { installHttpMetrics } from './common/httpMetrics.ts';
import { instrumentBackends } from './common/instrumentBackends.ts';
import { LiveConfig } from './common/LiveConfig.ts';
import { createLogger } from './common/logger.ts';
import { installProcessGuard } from './common/processGuard.ts';
import { RedisUnavailableError } from './common/redis.ts';
import { ROLE_NAMES, type RoleContext, type RoleName, type RunningRole } from './common/role.ts';
import { startRoles } from './wiring.ts';

function fail(message: string): never {
  process.stderr.write(`convene: ${message}\n`);
  process.exit(1);
}

function parseRoles(argv: string[]): RoleName[] {
  let role = 'all';
  try {
    role = parseArgs({ args: argv, options: { role: { type: 'string', default: 'all' } }, strict: true }).values.role;
  } catch (error) {
    fail(`${(error as Error).message}\nusage: convene --role <all|${ROLE_NAMES.join('|')}>[,<role>...]`);
  }
  const requested = role === 'all' ? [...ROLE_NAMES] : role.split(',').map((r) => r.trim());
  for (const role of requested) {
    if (!(ROLE_NAMES as readonly string[]).includes(role)) fail(`unknown role "${role}"; expected all or one of ${ROLE_NAMES.join(', ')}`);
  }
  return ROLE_NAMES.filter((r) => requested.includes(r));
}

function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

async function main(): Promise<void> {
  const roles = parseRoles(process.argv.slice(2));
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.LOG_LEVEL, role: roles.length === ROLE_NAMES.length ? 'all' : roles.join(','), nodeId: config.nodeId });
  const metrics = new Registry();
  installProcessGuard(logger, metrics);

  const backends = instrumentBackends(
    await createBackends(config).catch((error: unknown) => {
      if (error instanceof RedisUnavailableError) fail(error.message);
      throw error;
    }),
    metrics,
  );
  if (!config.embedded && config.JWT_SECRET === undefined) {
    config.jwtSecret = await resolveSharedSecret(backends.store, 'jwt', config.jwtSecret);
  }
  if (config.API_KEY === undefined) logger.warn('API_KEY is not set; using the development key "dev-api-key"');
  if (config.ADMIN_API_KEY === undefined) logger.warn('ADMIN_API_KEY is not set; using the development admin key "dev-admin-key"');

  collectDefaultMetrics({ register: metrics });
  const http = createHttpServer(logger, { trustProxy: config.TRUST_PROXY });
  await installHttpMetrics(http, metrics);
  const live = new LiveConfig(config, backends.store, backends.bus, logger, { metrics });
  await live.start();
  backends.onReconnect(() => {
    logger.info('shared state store reachable again');
    detach(logger, 'reading the live configuration', live.resync());
  });
  const ctx: RoleContext = { config, logger, backends, http, metrics, live };

  const running: RunningRole[] = [];
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    if (signal === 'SIGTERM') {
      await Promise.all(running.map((role) => role.drain?.().catch((error: unknown) => logger.error({ err: error, roleName: role.name }, 'drain failed'))));
    }
    for (const role of [...running].reverse()) {
      await role.close().catch((error: unknown) => logger.error({ err: error, roleName: role.name }, 'role failed to close'));
    }
    await http.close();
    await backends.close();
    process.exit(0);
  };
  process.once('SIGINT', () => detach(logger, 'shutdown', shutdown('SIGINT')));
  process.once('SIGTERM', () => detach(logger, 'shutdown', shutdown('SIGTERM')));

  registerHealthRoutes(http, {
    store: backends.store,
    roles: () => running,
    describe: () => ({ nodeId: config.nodeId, mode: config.embedded ? 'embedded' : 'redis', roles: running.map((r) => r.name), mediasoupWorkers: 0 }),
  });
  http.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(metrics.contentType);
    return metrics.metrics();
  });

  await startRoles(ctx, roles, running);
  await http.listen({ port: config.PORT, host: config.HOST });
  logger.info({ roles, url: config.publicUrl, mode: config.embedded ? 'embedded' : 'redis' }, 'convene is up');
}

main().catch((error: unknown) => {
  process.stderr.write(`convene: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
