import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DiskStorage } from './DiskStorage.ts';
import { TooLargeError } from './FileStorage.ts';

const fresh = () => new DiskStorage(mkdtempSync(path.join(os.tmpdir(), 'convene-storage-')));

describe('DiskStorage', () => {
  it('stores a stream with its size and SHA-256', async () => {
    const storage = fresh();
    const stored = await storage.writeStream('meetings/m1/f1/original', Readable.from([Buffer.from('hello ')]), { maxBytes: 100 });
    expect(stored).toEqual({ size: 6, sha256: createHash('sha256').update('hello ').digest('hex') });
    expect(await storage.exists('meetings/m1/f1/original')).toBe(true);
  });

  it('leaves nothing behind when a stream is over the limit or dies mid-way', async () => {
    const storage = fresh();
    await expect(storage.writeStream('meetings/m1/big/original', Readable.from([Buffer.alloc(64), Buffer.alloc(64)]), { maxBytes: 100 })).rejects.toBeInstanceOf(TooLargeError);
    const dying = new PassThrough();
    const write = storage.writeStream('meetings/m1/cut/original', dying, { maxBytes: 1000 });
    await new Promise((r) => setTimeout(r, 50)); // the upload is under way
    dying.write(Buffer.alloc(10));
    dying.destroy(new Error('client went away'));
    await expect(write).rejects.toThrow('client went away');
    expect(readdirSync(path.join(storage.root, 'meetings/m1'), { recursive: true }).filter((f) => !String(f).match(/^(big|cut)$/))).toEqual([]);
    expect(await storage.exists('meetings/m1/cut/original')).toBe(false);
  });

  it('sweeps stale temporary files only', async () => {
    const storage = fresh();
    await storage.writeFile('meetings/m2/f/pages/1.png', Buffer.from('png'));
    const stale = path.join(storage.root, 'meetings/m2/f/.tmp-abandoned');
    writeFileSync(stale, 'half an upload');
    utimesSync(stale, new Date(Date.now() - 3 * 3600_000), new Date(Date.now() - 3 * 3600_000));
    writeFileSync(path.join(storage.root, 'meetings/m2/f/.tmp-in-progress'), 'still going');
    expect(await storage.sweepTemporary(3600_000)).toBe(1);
    expect(readdirSync(path.join(storage.root, 'meetings/m2/f')).sort()).toEqual(['.tmp-in-progress', 'pages']);
    expect(await storage.meetings()).toEqual(['m2']);
  });

  it('refuses keys that escape its root', async () => {
    await expect(fresh().writeFile('../outside', Buffer.from('x'))).rejects.toThrow(/escapes/);
  });
});
