import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../common/testing.ts';
import { ConversionError, convertDeck } from './convertDeck.ts';

/** Whether a process still runs (a zombie waiting to be reaped no longer does). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/**
 * A stand-in for LibreOffice's launcher: like `soffice`, it leaves the work to a child
 * (`soffice.bin`) that is reparented and runs on if only the launcher is killed.
 */
function fakeTools(): { dir: string; pidFile: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'convene-fake-soffice-'));
  const pidFile = path.join(dir, 'child.pid');
  writeFileSync(path.join(dir, 'soffice'), `#!/bin/sh\nsleep 30 &\necho $! > ${pidFile}\nwait\n`);
  chmodSync(path.join(dir, 'soffice'), 0o755);
  return { dir, pidFile };
}

describe('convertDeck', () => {
  const originalPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = originalPath;
  });

  it('kills what LibreOffice started, not only its launcher, at the deadline', async () => {
    const tools = fakeTools();
    process.env.PATH = `${tools.dir}:${originalPath}`;
    const workDir = mkdtempSync(path.join(os.tmpdir(), 'convene-convert-test-'));
    const input = path.join(workDir, 'input.pptx');
    writeFileSync(input, 'not really a deck');
    const started = Date.now();
    const error = await convertDeck({ input, ext: 'pptx', workDir, deadline: Date.now() + 700 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConversionError);
    expect((error as ConversionError).message).toMatch(/timed out/);
    expect((error as ConversionError).permanent).toBe(false);
    expect(Date.now() - started).toBeLessThan(5000);
    const child = Number(readFileSync(tools.pidFile, 'utf8'));
    await waitFor(() => !running(child), { timeoutMs: 1000, what: `the launcher's child ${child} to be gone` });
  });

  it('stops at once when its job is cancelled', async () => {
    const tools = fakeTools();
    process.env.PATH = `${tools.dir}:${originalPath}`;
    const workDir = mkdtempSync(path.join(os.tmpdir(), 'convene-convert-test-'));
    const input = path.join(workDir, 'input.odp');
    writeFileSync(input, 'x');
    const cancel = new AbortController();
    const conversion = convertDeck({ input, ext: 'odp', workDir, deadline: Date.now() + 60_000, signal: cancel.signal });
    await waitFor(() => {
      try {
        return readFileSync(tools.pidFile, 'utf8').trim() !== '';
      } catch {
        return false;
      }
    });
    cancel.abort();
    await expect(conversion).rejects.toThrow(/timed out/);
    const child = Number(readFileSync(tools.pidFile, 'utf8'));
    await waitFor(() => !running(child), { timeoutMs: 1000, what: `the launcher's child ${child} to be gone` });
  });
});
