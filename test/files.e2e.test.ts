import { readdirSync, readFileSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, testPrefix, waitFor } from '../common/testing.ts';
import type { FileInfo } from '../protocol/src/index.ts';
import { joinInBrowser, launchBrowser, type TestBrowser } from './support/browser.ts';
import { Cluster } from './support/cluster.ts';
import { makeDecks } from './support/decks.ts';
import { api, createMeeting, type RunningServer, startServer } from './support/server.ts';
import { zipBomb } from './support/zip.ts';

const decks = makeDecks(3);

async function joinToken(base: string, meetingId: string, name = 'Presenter'): Promise<string> {
  return (await api<{ token: string }>(base, 'POST', `/v1/meetings/${meetingId}/join`, { name })).body.token;
}

/** Uploads as the participant of `token`, or with the API key when it is null. */
async function upload(base: string, meetingId: string, token: string | null, name: string, data: Buffer): Promise<{ status: number; body: FileInfo & { code?: string; detail?: string } }> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(data)]), name);
  const res = await fetch(`${base}/v1/meetings/${meetingId}/files`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : { 'x-api-key': 'dev-api-key' }, body: form });
  return { status: res.status, body: (await res.json()) as FileInfo & { code?: string; detail?: string } };
}

async function fileWhen(base: string, meetingId: string, fileId: string, token: string, done: (f: FileInfo) => boolean, timeoutMs = 60_000): Promise<FileInfo> {
  return waitFor(
    async () => {
      const { body } = await api<FileInfo>(base, 'GET', `/v1/meetings/${meetingId}/files/${fileId}`, undefined, { authorization: `Bearer ${token}` });
      return done(body) ? body : undefined;
    },
    { timeoutMs, intervalMs: 200, what: `file ${fileId}` },
  );
}

/** Every file under `dir`, for checking that refusals leave nothing behind. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of (() => {
      try {
        return readdirSync(d);
      } catch {
        return [];
      }
    })()) {
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(full);
    }
  };
  walk(dir);
  return out;
}

describe('files and slides', () => {
  const filesDir = mkdtempSync(path.join(os.tmpdir(), 'convene-files-'));
  let server: RunningServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    server = await startServer({
      port: 3501,
      env: { MEDIA_WORKERS: '1', MEDIA_PORT_BASE: '47500', MEDIA_RTC_MIN_PORT: '47510', MEDIA_RTC_MAX_PORT: '47600', FILES_DIR: filesDir, FILES_MAX_BYTES: String(5 * 1024 * 1024) },
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('converts a real PPTX and a real PDF into page images, served only with a token', async () => {
    const meeting = await createMeeting(server.url);
    const token = await joinToken(server.url, meeting.id);
    for (const [name, data] of [
      ['Quarterly review.pptx', decks.pptx],
      ['Roadmap.pdf', decks.pdf],
    ] as const) {
      const created = await upload(server.url, meeting.id, token, name, data);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body.type).toBe(name.endsWith('.pdf') ? 'pdf' : 'pptx');
      const file = await fileWhen(server.url, meeting.id, created.body.id, token, (f) => f.status === 'ready' || f.status === 'failed');
      expect(file.status, file.error).toBe('ready');
      expect(file.pages).toEqual([1, 2, 3]);
      const page = await fetch(`${server.url}/v1/meetings/${meeting.id}/files/${file.id}/pages/2?token=${token}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await page.arrayBuffer()).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      expect((await fetch(`${server.url}/v1/meetings/${meeting.id}/files/${file.id}/pages/2`)).status).toBe(401);
      const other = await createMeeting(server.url);
      const stranger = await fetch(`${server.url}/v1/meetings/${meeting.id}/files/${file.id}/pages/2?token=${await joinToken(server.url, other.id)}`);
      expect(stranger.status).toBe(403);
      const original = await fetch(`${server.url}/v1/meetings/${meeting.id}/files/${file.id}/download`, { headers: { authorization: `Bearer ${token}` } });
      expect(Buffer.from(await original.arrayBuffer()).equals(data)).toBe(true);
    }
  });

  it('turns pages for everyone, in order, and a late joiner lands on the current page', async () => {
    const meeting = await createMeeting(server.url);
    const presenter = await joinInBrowser(browser.browser, server.url, meeting.id, 'Presenter', '&nomedia=1');
    const viewer = await joinInBrowser(browser.browser, server.url, meeting.id, 'Viewer', '&nomedia=1');
    const token = await presenter.evaluate(() => window.convene!.token);
    const created = await upload(server.url, meeting.id, token, 'deck.pptx', decks.pptx);
    await fileWhen(server.url, meeting.id, created.body.id, token, (f) => f.status === 'ready');
    await viewer.evaluate(() => {
      const w = window as unknown as { turns: number[] };
      w.turns = [];
      window.convene!.on('presentation', (p) => w.turns.push(p?.page ?? 0));
    });
    await presenter.evaluate((id) => window.convene!.present(id, 1), created.body.id);
    await viewer.waitForSelector('#stage:not([hidden]) img[data-page="1"]');
    const turned = [1];
    for (const page of [2, 3, 2]) {
      await presenter.evaluate((p) => window.convene!.turnPage(p), page);
      turned.push(page);
      await viewer.waitForFunction((p) => document.querySelector<HTMLImageElement>('#slide')?.dataset.page === String(p), page);
      // Every turn reached the viewer once, in the order it was made, and none was skipped.
      expect(await viewer.evaluate(() => (window as unknown as { turns: number[] }).turns)).toEqual(turned);
      // The image itself loaded (a real PNG through the token-scoped URL).
      await viewer.waitForFunction(() => {
        const img = document.querySelector<HTMLImageElement>('#slide');
        return img?.complete && (img.naturalWidth ?? 0) > 0;
      });
    }
    const late = await joinInBrowser(browser.browser, server.url, meeting.id, 'Late', '&nomedia=1');
    await late.waitForSelector('#stage:not([hidden]) img[data-page="2"]', { timeout: 5000 });
    for (const page of [presenter, viewer, late]) await page.context().close();
  });

  describe('bad input is refused clearly and leaves nothing on disk', () => {
    let meetingId: string;
    let token: string;
    beforeAll(async () => {
      meetingId = (await createMeeting(server.url)).id;
      token = await joinToken(server.url, meetingId);
    });
    const onDisk = () => filesUnder(path.join(filesDir, 'meetings', meetingId));

    it('refuses an oversized upload', async () => {
      const res = await upload(server.url, meetingId, token, 'huge.pdf', Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(6 * 1024 * 1024, 0x20)]));
      expect(res.status).toBe(413);
      expect(res.body.code).toBe('payload_too_large');
      expect(onDisk()).toEqual([]);
    });

    it('refuses a disguised executable named .pptx', async () => {
      const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(4096, 1)]);
      const res = await upload(server.url, meetingId, token, 'slides.pptx', elf);
      expect(res.status).toBe(415);
      expect(res.body.code).toBe('unsupported_media_type');
      const exe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(58), Buffer.from([0x80, 0, 0, 0]), Buffer.alloc(64), Buffer.from('PE\0\0'), Buffer.alloc(2048)]);
      expect((await upload(server.url, meetingId, token, 'deck.pptx', exe)).status).toBe(415);
      expect(onDisk()).toEqual([]);
    });

    it('refuses a zip bomb posing as PPTX', async () => {
      const bomb = zipBomb(400 * 1024 * 1024);
      expect(bomb.length).toBeLessThan(1024 * 1024);
      const res = await upload(server.url, meetingId, token, 'bomb.pptx', bomb);
      expect(res.status).toBe(413);
      expect(res.body.detail).toMatch(/zip bomb/);
      expect(onDisk()).toEqual([]);
    });

    it('refuses a zip bomb that declares small sizes, by what it really inflates to', async () => {
      const bomb = zipBomb(64 * 1024 * 1024, 2000);
      const res = await upload(server.url, meetingId, token, 'small-looking.pptx', bomb);
      expect(res.status).toBe(413);
      expect(res.body.detail).toMatch(/zip bomb/);
      expect(onDisk()).toEqual([]);
    });

    it('refuses a path-traversal file name', async () => {
      const res = await upload(server.url, meetingId, token, '../../../etc/evil.pdf', decks.pdf);
      expect(res.status).toBe(400);
      expect(res.body.detail).toMatch(/path/);
      expect(onDisk()).toEqual([]);
    });

    it('fails a corrupt PDF cleanly and says so', async () => {
      const res = await upload(server.url, meetingId, token, 'broken.pdf', Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage garbage\n'));
      expect(res.status).toBe(201);
      const file = await fileWhen(server.url, meetingId, res.body.id, token, (f) => f.status === 'failed' || f.status === 'ready');
      expect(file.status).toBe('failed');
      expect(file.error).toMatch(/PDF/);
      expect(file.pages).toEqual([]);
      // Only the upload itself remains (it can be downloaded or deleted), no page and no temporary file.
      expect(onDisk().map((f) => path.basename(f))).toEqual(['original']);
      expect((await fetch(`${server.url}/v1/meetings/${meetingId}/files/${file.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status).toBe(204);
      expect(onDisk()).toEqual([]);
    });
  });
});

/**
 * An upload by hand on a raw socket: the request head and the start of a multipart body that
 * announces `declared` bytes, then whatever the test does (stall, hang up).
 */
function partialUpload(port: number, meetingId: string, token: string, declared = 8 * 1024 * 1024): { socket: Socket; answer: Promise<{ status: number; contentType: string; body: { code?: string } }> } {
  const socket = connect(port, '127.0.0.1');
  const boundary = 'convene-partial';
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.pdf"\r\nContent-Type: application/pdf\r\n\r\n`;
  socket.write(
    `POST /v1/meetings/${meetingId}/files HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${declared}\r\n\r\n${head}%PDF-1.4\n`,
  );
  socket.write(Buffer.alloc(256 * 1024, 0x20));
  const answer = new Promise<{ status: number; contentType: string; body: { code?: string } }>((resolve, reject) => {
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
      const [headPart, body] = text.split('\r\n\r\n');
      if (body === undefined) return;
      const length = Number(/content-length: (\d+)/i.exec(headPart!)?.[1] ?? -1);
      if (Buffer.byteLength(body) < length) return;
      resolve({ status: Number(headPart!.split(' ')[1]), contentType: /content-type: ([^\r]+)/i.exec(headPart!)?.[1] ?? '', body: JSON.parse(body) });
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`connection closed without a whole answer: ${text}`)));
  });
  answer.catch(() => undefined);
  return { socket, answer };
}

/** Whether the server logged the end of the last conversion attempt at `fileId`. */
function lastAttemptOver(logs: string[], fileId: string, attempts: number): boolean {
  return logs
    .join('')
    .split('\n')
    .some((line) => {
      if (!line.includes(fileId)) return false;
      try {
        const entry = JSON.parse(line) as { fileId?: string; msg?: string; attempt?: number; permanent?: boolean };
        if (entry.fileId !== fileId) return false;
        return entry.msg === 'deck converted' || (entry.msg === 'conversion failed' && (entry.permanent === true || entry.attempt === attempts));
      } catch {
        return false;
      }
    });
}

/** soffice.bin processes whose command line names `marker` (a TMPDIR given to one server). */
/**
 * The process groups of the live soffice.bin whose command line holds `marker`: one group per
 * conversion (runTool starts each in a group of its own). Counted by group, because LibreOffice
 * may restart its soffice.bin within one conversion (after making a fresh profile), and the old
 * one can still be exiting when the new one appears.
 */
function sofficeGroups(marker: string): Set<number> {
  const groups = new Set<number>();
  for (const pid of sofficeProcesses(marker)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      groups.add(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]));
    } catch {
      // gone meanwhile
    }
  }
  return groups;
}

function sofficeProcesses(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (!stat.includes('(soffice.bin)') || / Z /.test(stat.slice(stat.lastIndexOf(')')))) continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(marker)) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

describe('uploads cannot be abused', () => {
  const filesDir = mkdtempSync(path.join(os.tmpdir(), 'convene-files-abuse-'));
  const MiB = 1024 * 1024;
  let server: RunningServer;
  const onDisk = (meetingId: string) => filesUnder(path.join(filesDir, 'meetings', meetingId));

  beforeAll(async () => {
    server = await startServer({
      port: 3521,
      env: {
        LOG_LEVEL: 'info',
        MEDIA_WORKERS: '1',
        MEDIA_PORT_BASE: '47700',
        MEDIA_RTC_MIN_PORT: '47710',
        MEDIA_RTC_MAX_PORT: '47800',
        FILES_DIR: filesDir,
        FILES_MAX_BYTES: String(20 * MiB),
        FILES_QUOTA_BYTES: String(200 * MiB),
        FILES_UPLOADS_PER_MEETING: '50',
        FILES_UPLOADS_PER_PARTICIPANT: '2',
        // Short for the test, yet above the pauses of a busy 2-core machine moving 300 MiB at once.
        FILES_UPLOAD_IDLE_TIMEOUT_MS: '5000',
      },
    });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('holds 20 parallel 15 MiB uploads to the 200 MiB quota (finding 10)', async () => {
    const meeting = await createMeeting(server.url);
    const data = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(15 * MiB - 9, 0x20)]);
    // One body encoded once and sent 20 times: the client spends no time between headers and body.
    const boundary = 'convene-quota';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="deck.pdf"\r\nContent-Type: application/pdf\r\n\r\n`),
      data,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const results = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const res = await fetch(`${server.url}/v1/meetings/${meeting.id}/files`, {
          method: 'POST',
          headers: { 'x-api-key': 'dev-api-key', 'content-type': `multipart/form-data; boundary=${boundary}` },
          body,
        });
        return { status: res.status, body: (await res.json()) as { code?: string } };
      }),
    );
    const accepted = results.filter((r) => r.status === 201);
    for (const r of results) if (r.status !== 201) expect([r.status, r.body.code]).toEqual([413, 'quota_exceeded']);
    expect(accepted.length * data.length).toBeLessThanOrEqual(200 * MiB);
    expect(accepted.length).toBe(13);
    const stored = onDisk(meeting.id).filter((f) => path.basename(f) === 'original');
    expect(stored).toHaveLength(accepted.length);
    expect(onDisk(meeting.id).filter((f) => path.basename(f).startsWith('.tmp-'))).toEqual([]);
  });

  it('ends a stalled upload with 408 problem+json and removes what it wrote', async () => {
    const meeting = await createMeeting(server.url);
    const token = await joinToken(server.url, meeting.id);
    const { socket, answer } = partialUpload(server.port, meeting.id, token);
    const res = await answer;
    socket.destroy();
    expect(res.status).toBe(408);
    expect(res.contentType).toMatch(/application\/problem\+json/);
    // The server's own timer ended it (a 408 of its own), not the test's timeout.
    expect(res.body.code).toBe('request_timeout');
    await waitFor(() => onDisk(meeting.id).length === 0, { what: 'the partial upload to be removed' });
  }, 20_000);

  it('caps uploads under way per participant (429), and frees the place when one ends', async () => {
    const meeting = await createMeeting(server.url);
    const token = await joinToken(server.url, meeting.id);
    const open = [partialUpload(server.port, meeting.id, token), partialUpload(server.port, meeting.id, token)];
    await waitFor(() => onDisk(meeting.id).length === 2, { what: 'two uploads under way' });
    const third = await upload(server.url, meeting.id, token, 'third.pdf', decks.pdf);
    expect([third.status, third.body.code]).toEqual([429, 'rate_limited']);
    for (const o of open) o.socket.destroy();
    await waitFor(() => onDisk(meeting.id).length === 0, { what: 'the cut-off uploads to be removed' });
    expect((await upload(server.url, meeting.id, token, 'fourth.pdf', decks.pdf)).status).toBe(201);
  });

  it('treats a client that hangs up mid-upload as a quiet client error, never a 500', async () => {
    const meeting = await createMeeting(server.url);
    const token = await joinToken(server.url, meeting.id);
    const from = server.logs.length;
    const { socket } = partialUpload(server.port, meeting.id, token);
    await waitFor(() => onDisk(meeting.id).length === 1, { what: 'the upload to be under way' });
    socket.destroy();
    await waitFor(() => onDisk(meeting.id).length === 0, { what: 'the cut-off upload to be removed' });
    // The request's outcome is logged once its handling is over: an error it caused is in the
    // log before that line, or never.
    const logged = () => server.logs.slice(from).join('').split('\n').filter(Boolean);
    await waitFor(() => logged().some((l) => /"level":30/.test(l) && /went away/.test(l)), { what: 'the hang-up to be logged as a client error' });
    expect(logged().filter((l) => /"level":(50|60)/.test(l) || /unhandled/.test(l))).toEqual([]);
  });
});

describe('conversions stop at their deadline', () => {
  const filesDir = mkdtempSync(path.join(os.tmpdir(), 'convene-files-deadline-'));
  // Conversions of this server work in a folder of their own, so its soffice.bin can be told apart.
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'convene-deadline-tmp-'));
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer({
      port: 3531,
      env: {
        TMPDIR: tmp,
        MEDIA_WORKERS: '1',
        MEDIA_PORT_BASE: '47900',
        MEDIA_RTC_MIN_PORT: '47910',
        MEDIA_RTC_MAX_PORT: '48000',
        FILES_DIR: filesDir,
        FILES_CONVERT_TIMEOUT_MS: '1500',
        FILES_CONVERT_ATTEMPTS: '2',
        FILES_WORKER_CONCURRENCY: '1',
        // The end of each conversion attempt is read from the log.
        LOG_LEVEL: 'info',
      },
    });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('kills LibreOffice whole at the deadline: never more soffice.bin than the concurrency (finding 11)', async () => {
    const meeting = await createMeeting(server.url);
    const token = await joinToken(server.url, meeting.id);
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push((await upload(server.url, meeting.id, token, `deck-${n}.pptx`, decks.pptx)).body.id);
    let most = 0;
    const sampler = setInterval(() => {
      most = Math.max(most, sofficeGroups(tmp).size);
    }, 100);
    try {
      // A failed attempt is retried (status 'failed' in between), so the server's log says when
      // each file's last attempt is over.
      await waitFor(() => ids.every((id) => lastAttemptOver(server.logs, id, 2)), { timeoutMs: 60_000, what: 'the last attempt at every deck' });
      // runTool kills a tool's whole group before it answers, so what remains now is only
      // dying. A LibreOffice that outlived its deadline (the finding: 16 s past it) would still
      // be running.
      await waitFor(() => sofficeProcesses(tmp).length === 0, { intervalMs: 100, what: 'every LibreOffice of the timed-out conversions to be gone' });
    } finally {
      clearInterval(sampler);
    }
    expect(most).toBeLessThanOrEqual(1);
  });
});

describe('conversion workers on Redis', () => {
  const prefix = testPrefix('files');
  const filesDir = mkdtempSync(path.join(os.tmpdir(), 'convene-files-cluster-'));
  const cluster = new Cluster({
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    JWT_SECRET: 'files-test-secret-long-enough-for-hs256',
    FILES_DIR: filesDir,
    FILES_JOB_LOCK_MS: '2000',
  });

  beforeAll(async () => {
    await Promise.all([
      cluster.start({ name: 'api-f', roles: 'api', port: 3511 }),
      cluster.start({ name: 'files-1', roles: 'files', port: 3512 }),
      cluster.start({ name: 'files-2', roles: 'files', port: 3513 }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await cluster.stopAll();
    const redis = new Redis(TEST_REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('retries a job whose worker was killed mid-job on another worker, which completes it', async () => {
    const base = cluster.url('api-f');
    const meeting = await createMeeting(base);
    const token = await joinToken(base, meeting.id);
    const created = await upload(base, meeting.id, token, 'deck.pptx', decks.pptx);
    expect(created.status).toBe(201);
    const converting = await fileWhen(base, meeting.id, created.body.id, token, (f) => f.status === 'converting' && f.convertedBy !== undefined, 20_000);
    const victim = converting.convertedBy!;
    cluster.kill(victim);
    const done = await fileWhen(base, meeting.id, created.body.id, token, (f) => f.status === 'ready' || (f.status === 'failed' && f.convertedBy !== victim), 60_000);
    expect(done.status, done.error).toBe('ready');
    expect(done.convertedBy).not.toBe(victim);
    expect(done.pages).toEqual([1, 2, 3]);
  });
});
