import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { zipBomb } from '../test/support/zip.ts';
import { inspectUpload } from './inspect.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'convene-inspect-test-'));
function saved(name: string, data: Buffer): [string, number] {
  const file = path.join(dir, name);
  writeFileSync(file, data);
  return [file, data.length];
}

describe('inspectUpload', () => {
  it('takes a small, honest PPTX', async () => {
    expect(await inspectUpload(...saved('ok.pptx', zipBomb(20_000)))).toMatchObject({ ext: 'pptx' });
  });

  it('refuses a zip bomb that declares its real size', async () => {
    await expect(inspectUpload(...saved('honest-bomb.pptx', zipBomb(40 * 1024 * 1024)))).rejects.toMatchObject({ code: 'payload_too_large', message: expect.stringMatching(/zip bomb/) });
  });

  it('refuses a zip bomb that lies about its size, by the bytes it really inflates to', async () => {
    const bomb = zipBomb(40 * 1024 * 1024, 1000);
    const started = Date.now();
    await expect(inspectUpload(...saved('lying-bomb.pptx', bomb))).rejects.toMatchObject({ code: 'payload_too_large', message: expect.stringMatching(/zip bomb/) });
    // It stopped at its budget, not after inflating everything.
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses an entry that inflates past what it declares, even within the budget', async () => {
    await expect(inspectUpload(...saved('liar.pptx', zipBomb(50_000, 1000)))).rejects.toMatchObject({ code: 'payload_too_large' });
  });
});
