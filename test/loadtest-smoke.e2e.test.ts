import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from './support/server.ts';

/**
 * Issue 16: `npm run loadtest -- smoke` (artillery's API and socket.io scenarios) passes against
 * the embedded server and against a deployment with two push nodes on Redis. The profile fails
 * on errors (a refused ack, a non-2xx answer, a user that did not finish), never on timings.
 */
const reports = mkdtempSync(path.join(os.tmpdir(), 'convene-loadtest-'));

function smoke(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn('npm', ['run', 'loadtest', '--', 'smoke'], { cwd: path.resolve(import.meta.dirname, '..'), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

describe('npm run loadtest -- smoke', () => {
  afterAll(() => rmSync(reports, { recursive: true, force: true }));

  it('passes against the embedded server', { timeout: 120_000 }, async () => {
    const run = await smoke({ CONVENE_TARGET: 'embedded', LOADTEST_PORT_BASE: '35300', LOADTEST_REPORTS: path.join(reports, 'embedded') });
    expect(run.output).toContain('loadtest smoke: passed');
    expect(run.code, run.output).toBe(0);
  });

  it('passes against two push nodes on Redis', { timeout: 120_000 }, async () => {
    const run = await smoke({ CONVENE_TARGET: 'cluster', LOADTEST_PORT_BASE: '35560', LOADTEST_REPORTS: path.join(reports, 'cluster') });
    expect(run.output).toMatch(/signalling via push 2: \d+ users/);
    expect(run.output).toContain('loadtest smoke: passed');
    expect(run.code, run.output).toBe(0);
  });

  it('fails when the target refuses the load (a join limit of 5 a minute)', { timeout: 120_000 }, async () => {
    const port = 35760;
    const server = await startServer({ port, env: { JOIN_RATE_LIMIT: '5', SIP_PORT: String(port + 5), MEDIA_PORT_BASE: String(port + 10), MEDIA_RTC_MIN_PORT: String(port + 20), MEDIA_RTC_MAX_PORT: String(port + 35) } });
    try {
      const run = await smoke({ CONVENE_URL: server.url, LOADTEST_REPORTS: path.join(reports, 'refused') });
      expect(run.output).toContain('429');
      expect(run.output).not.toContain('loadtest smoke: passed');
      expect(run.code).not.toBe(0);
    } finally {
      await server.stop();
    }
  });
});
