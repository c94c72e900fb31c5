import { type RunningServer, startServer } from './server.ts';

export interface ProcessSpec {
  name: string;
  roles: string;
  port: number;
  env?: Record<string, string>;
}

/**
 * A Convene deployment as separate processes on 127.0.0.1, sharing one Redis under a fresh
 * prefix. Processes are addressed by name so that a test can kill or signal one.
 */
export class Cluster {
  readonly processes = new Map<string, RunningServer>();

  private readonly shared: Record<string, string>;
  constructor(shared: Record<string, string>) {
    this.shared = shared;
  }

  async start(spec: ProcessSpec): Promise<RunningServer> {
    const server = await startServer({ port: spec.port, roles: spec.roles, env: { ...this.shared, NODE_ID: spec.name, ...spec.env } });
    this.processes.set(spec.name, server);
    return server;
  }

  get(name: string): RunningServer {
    const server = this.processes.get(name);
    if (!server) throw new Error(`no process ${name}`);
    return server;
  }

  url(name: string): string {
    return this.get(name).url;
  }

  /** kill -9: no goodbye, no cleanup. */
  kill(name: string): void {
    this.get(name).process.kill('SIGKILL');
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.processes.values()].map((p) => p.stop('SIGINT').catch(() => undefined)));
  }
}

export function mediaNodeSpec(name: string, port: number, portBase: number, env: Record<string, string> = {}): ProcessSpec {
  return {
    name,
    roles: 'media',
    port,
    env: {
      MEDIA_WORKERS: '1',
      MEDIA_PORT_BASE: String(portBase),
      MEDIA_RTC_MIN_PORT: String(portBase + 10),
      MEDIA_RTC_MAX_PORT: String(portBase + 150),
      ...env,
    },
  };
}
