import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM_BASE_FLAGS, CHROMIUM_PATH } from './browser.ts';
import type { LabHost } from './netlab.ts';
import { type RunningServer, startServer } from './server.ts';

export type LabServer = RunningServer;

/**
 * The whole server (`--role all`, in memory) inside a lab host, listening and announcing media
 * on the host's lab address, so that clients in other hosts reach it over the lab's links.
 * The test process reaches it over the lab's root link.
 */
export function startServerIn(host: LabHost, options: { port: number; env?: Record<string, string> }): Promise<LabServer> {
  const { port } = options;
  return startServer({
    port,
    host: host.address,
    spawn: host.spawn,
    timeoutMs: 30_000,
    env: {
      SIP_PORT: String(port + 2),
      MEDIA_PORT_BASE: String(port + 100),
      MEDIA_RTC_MIN_PORT: String(port + 110),
      MEDIA_RTC_MAX_PORT: String(port + 300),
      MEDIA_WORKERS: '1',
      ...options.env,
    },
  });
}

/**
 * Chromium running inside a lab host (so its only network is the host's link), driven over
 * playwright's pipe. `origins` are the lab servers it opens: plain http on a lab address is
 * not a secure context, where the camera and microphone do not exist, so they are treated as one.
 */
export async function launchBrowserIn(host: LabHost, origins: string[]): Promise<Browser> {
  return chromium.launch({
    executablePath: host.wrapper(CHROMIUM_PATH),
    args: [
      `--unsafely-treat-insecure-origin-as-secure=${origins.join(',')}`,
      ...CHROMIUM_BASE_FLAGS,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/**
 * Drops everything between `host` and `server` but TCP to and from its signalling `port`: the
 * media path goes (UDP and ICE-TCP alike) while the socket stays up, as on a network that
 * changes under a call without the browser noticing. Returns what restores it. (A table of its
 * own, beside the lab's, so that netlab's rules are untouched.)
 */
export async function cutMediaPath(host: LabHost, server: { address: string; port: number }): Promise<() => Promise<void>> {
  const { address, port } = server;
  if (!/^198\.1[89]\.\d{1,3}\.\d{1,3}$/.test(address) || !Number.isInteger(port)) throw new Error(`not a lab server: ${address}:${port}`);
  const rules = `table inet cvmedia {
    chain output { type filter hook output priority 0; policy accept; ip daddr ${address} tcp dport ${port} accept; ip daddr ${address} drop; }
    chain input { type filter hook input priority 0; policy accept; ip saddr ${address} tcp sport ${port} accept; ip saddr ${address} drop; }
  }`;
  await host.exec('sh', ['-c', `printf '%s\\n' "$0" | nft -f -`, rules]);
  return async () => {
    await host.exec('nft', ['delete', 'table', 'inet', 'cvmedia']).catch(() => undefined);
  };
}
