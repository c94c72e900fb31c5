import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Runs the real entry point and returns how it ended: a bad setting must stop it at once. */
function runConvene(env: Record<string, string>, timeoutMs = 15_000): Promise<{ code: number | null; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['main.ts', '--role', 'all'], {
      env: { ...process.env, LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`convene did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: Date.now() - started });
    });
  });
}

describe('start-up fails fast on bad configuration', () => {
  it('names PORT when it is not a number', async () => {
    const result = await runConvene({ PORT: 'abc' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('convene: invalid configuration: PORT must be a number (got "abc")');
  });

  it('says Redis cannot be reached when nothing listens at REDIS_URL', async () => {
    const result = await runConvene({ REDIS_URL: 'redis://127.0.0.1:6390', PORT: '3990' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot reach Redis at redis://127.0.0.1:6390 (REDIS_URL)');
    expect(result.stderr).toContain('ECONNREFUSED');
  });

  it('says the Sentinels cannot be reached when none answers at REDIS_SENTINELS', async () => {
    const result = await runConvene({ REDIS_SENTINELS: '127.0.0.1:1,127.0.0.1:2', REDIS_SENTINEL_NAME: 'main', PORT: '3991' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot reach Redis at primary "main" of Sentinels 127.0.0.1:1,127.0.0.1:2 (REDIS_SENTINELS): no Sentinel answers');
  });

  it('names REDIS_SENTINELS when an entry has no port', async () => {
    const result = await runConvene({ REDIS_SENTINELS: 'sentinel-0' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('convene: invalid configuration: REDIS_SENTINELS must be a comma-separated list of host:port (got "sentinel-0")');
  });

  it('rejects an unknown role', async () => {
    const child = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, ['main.ts', '--role', 'mixer'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr.on('data', (c) => {
        stderr += c;
      });
      p.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(child.code).toBe(1);
    expect(child.stderr).toContain('unknown role "mixer"');
  });
});

describe('embedded start-up', () => {
  it('answers /healthz with live mediasoup workers and serves /metrics', async () => {
    const child = spawn(process.execPath, ['main.ts', '--role', 'all'], {
      env: { ...process.env, LOG_LEVEL: 'silent', PORT: '3991', MEDIA_WORKERS: '1', MEDIA_PORT_BASE: '44500', MEDIA_RTC_MIN_PORT: '44510', MEDIA_RTC_MAX_PORT: '44600' },
      stdio: 'ignore',
    });
    try {
      let health: Record<string, unknown> | undefined;
      const deadline = Date.now() + 15_000;
      while (!health && Date.now() < deadline) {
        try {
          const res = await fetch('http://127.0.0.1:3991/healthz');
          if (res.ok) health = (await res.json()) as Record<string, unknown>;
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      expect(health?.status).toBe('ok');
      expect(health?.mode).toBe('embedded');
      expect(health?.mediasoupWorkers).toBeGreaterThanOrEqual(1);
      const metrics = await (await fetch('http://127.0.0.1:3991/metrics')).text();
      expect(metrics).toMatch(/^convene_media_workers 1$/m);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
