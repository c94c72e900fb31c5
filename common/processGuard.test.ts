import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { detach } from './detach.ts';
import { waitFor } from './testing.ts';

describe('installProcessGuard', () => {
  it('keeps the process running through an unhandled rejection and a throw in a callback, and counts both', () => {
    // A child process, because the guard is process-wide and vitest installs handlers of its own.
    const script = `
      import pino from 'pino';
      import { Registry } from 'prom-client';
      import { installProcessGuard } from './common/processGuard.ts';
      const registry = new Registry();
      installProcessGuard(pino({ level: 'silent' }), registry);
      Promise.reject(new Error('dropped'));
      setTimeout(() => { throw new Error('thrown in a timer'); }, 10);
      setTimeout(async () => {
        const metric = await registry.getSingleMetricAsString('convene_unhandled_errors_total');
        process.stdout.write(metric + '\\nalive\\n');
      }, 100);
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(child.status).toBe(0);
    expect(child.stdout).toContain('alive');
    expect(child.stdout).toContain('convene_unhandled_errors_total{kind="rejection"} 1');
    expect(child.stdout).toContain('convene_unhandled_errors_total{kind="exception"} 1');
  });
});

describe('detach', () => {
  it('logs a failure instead of leaving it unhandled, for promises and for functions that throw', async () => {
    const lines: string[] = [];
    const logger = pino(
      new Writable({
        write: (chunk, _enc, done) => {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    detach(logger, 'sending a notice', Promise.reject(new Error('peer gone')));
    detach(logger, 'starting work', () => {
      throw new Error('bad input');
    });
    await waitFor(() => lines.join('').includes('starting work failed') && lines.join('').includes('sending a notice failed'), { intervalMs: 5, what: 'both failures logged' });
    expect(lines.join('')).toContain('sending a notice failed');
    expect(lines.join('')).toContain('peer gone');
    expect(lines.join('')).toContain('starting work failed');
  });
});
