import type { FastifyInstance } from 'fastify';
import { withTimeout } from './errors.ts';
import type { RunningRole } from './role.ts';
import type { StateStore } from './state/StateStore.ts';

export interface Readiness {
  ready: boolean;
  /** Why not, one line each: what an operator needs to see first. */
  reasons: string[];
}

/**
 * Whether this process can serve now: the shared store answers, and every role it runs says
 * it can (media: a live worker and not draining; files: the queue answers). Checked on every
 * call, with deadlines, so a probe never hangs on a dead dependency.
 */
export async function readiness(store: StateStore, roles: readonly RunningRole[]): Promise<Readiness> {
  const reasons: string[] = [];
  const storeCheck = withTimeout(store.ping(), 1000, 'the store').then(
    () => null,
    () => 'shared state store unreachable',
  );
  const roleChecks = roles.map((role) =>
    role.ready
      ? withTimeout(role.ready(), 1500, `${role.name} readiness`).catch(() => `${role.name}: readiness check failed`)
      : Promise.resolve(null),
  );
  for (const reason of await Promise.all([storeCheck, ...roleChecks])) if (reason) reasons.push(reason);
  return { ready: reasons.length === 0, reasons };
}

/**
 * `/livez`: the process is alive (its event loop answers); a failing dependency never makes it
 * fail, or an orchestrator would restart every process during a Redis outage.
 * `/readyz`: this process can serve (503 and the reasons when not), for load balancers and
 * readiness probes. `/healthz`: the same verdict with everything an operator wants to see.
 */
export function registerHealthRoutes(
  app: FastifyInstance,
  options: { store: StateStore; roles: () => readonly RunningRole[]; describe: () => Record<string, unknown> },
): void {
  app.get('/livez', { schema: { hide: true } }, async () => ({ status: 'alive' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const { ready, reasons } = await readiness(options.store, options.roles());
    reply.code(ready ? 200 : 503);
    return ready ? { status: 'ready' } : { status: 'unready', reasons };
  });

  app.get('/healthz', { schema: { hide: true } }, async (_request, reply) => {
    const { ready, reasons } = await readiness(options.store, options.roles());
    const health: Record<string, unknown> = { status: ready ? 'ok' : 'unready', ...(ready ? {} : { reasons }), ...options.describe() };
    for (const role of options.roles()) Object.assign(health, role.health?.());
    reply.code(ready ? 200 : 503);
    return health;
  });
}
