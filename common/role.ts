import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Backends } from './backends.ts';
import type { Config } from './config.ts';
import type { LiveConfig } from './LiveConfig.ts';
import type { Logger } from './logger.ts';

export const ROLE_NAMES = ['api', 'meeting', 'push', 'media', 'files', 'gateway-sip'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

/**
 * What every role is given when it starts: the process's infrastructure. Domain services come
 * as typed arguments of each role's starter, built once by the wiring (`wiring.ts`).
 */
export interface RoleContext {
  config: Config;
  logger: Logger;
  backends: Backends;
  http: FastifyInstance;
  metrics: Registry;
  /** The config centre: live settings pushed to every process. */
  live: LiveConfig;
}

export interface RunningRole {
  readonly name: RoleName;
  /** Extra fields merged into /healthz. */
  health?(): Record<string, unknown>;
  /** Why this role cannot serve now (for /readyz), or null when it can. */
  ready?(): Promise<string | null>;
  /** SIGTERM: stop taking new work and finish what is in hand, before close. */
  drain?(): Promise<void>;
  close(): Promise<void>;
}

