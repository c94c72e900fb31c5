/**
 * coturn (Debian `coturn`) as a real TURN server in a lab host: UDP/TCP 3478 and TLS on 443
 * with a self-signed certificate for the host's address, and TURN REST credentials
 * (`use-auth-secret`) from a shared secret, the way deploy/ runs it.
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from '../../common/testing.ts';
import type { LabHost } from './netlab.ts';
import { turnAllocate } from './turnClient.ts';
import { keepLogs } from './server.ts';

export const TURNSERVER_PATH = process.env.TURNSERVER_PATH ?? '/usr/bin/turnserver';

export interface RunningCoturn {
  host: LabHost;
  realm: string;
  /** The URIs the api should hand out (TURN_URLS). */
  urls: string[];
  certificate: string;
  logs: string[];
  stop(): Promise<void>;
}

/** A self-signed certificate whose subjectAltName is the address clients dial. */
function certificate(dir: string, address: string): { cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${address}`, '-addext', `subjectAltName=IP:${address}`, '-keyout', key, '-out', cert],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

export async function startCoturn(host: LabHost, secret: string): Promise<RunningCoturn> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cvlab-coturn-'));
  const { cert, key } = certificate(dir, host.address);
  const realm = 'convene.lab';
  const config = path.join(dir, 'turnserver.conf');
  writeFileSync(
    config,
    [
      `listening-ip=${host.address}`,
      `relay-ip=${host.address}`,
      'listening-port=3478',
      'tls-listening-port=443',
      // TLS only on 443: no plain TCP on it, no DTLS.
      'alt-listening-port=0',
      'alt-tls-listening-port=0',
      'no-dtls',
      'min-port=49152',
      'max-port=65535',
      `realm=${realm}`,
      'use-auth-secret',
      `static-auth-secret=${secret}`,
      `cert=${cert}`,
      `pkey=${key}`,
      'fingerprint',
      'no-cli',
      'no-multicast-peers',
      'no-software-attribute',
      'log-file=stdout',
      'simple-log',
      `pidfile=${path.join(dir, 'turnserver.pid')}`,
      `userdb=${path.join(dir, 'turndb')}`,
    ].join('\n'),
  );
  const child: ChildProcess = host.spawn(TURNSERVER_PATH, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = keepLogs(child);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Up when it answers an Allocate on both listeners (with a challenge: no credential sent yet).
  try {
    for (const [transport, port] of [
      ['udp', 3478],
      ['tls', 443],
    ] as const) {
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`turnserver exited with ${child.exitCode}: ${logs.join('')}`);
          const answer = await turnAllocate({ host: host.address, port, transport, username: 'probe', password: 'probe', timeoutMs: 500 });
          return answer.outcome === 'error';
        },
        { timeoutMs: 15_000, what: `coturn on ${transport} ${port}` },
      );
    }
  } catch (error) {
    await stop();
    throw new Error(`${String(error)}\n${logs.join('')}`);
  }
  return {
    host,
    realm,
    urls: [`turn:${host.address}:3478?transport=udp`, `turns:${host.address}:443?transport=tcp`],
    certificate: cert,
    logs,
    stop,
  };
}
