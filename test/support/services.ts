import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBackends } from '../../common/backends.ts';
import { loadConfig } from '../../common/config.ts';
import { createLogger } from '../../common/logger.ts';
import { NodeRegistry } from '../../common/NodeRegistry.ts';
import type { RoleContext } from '../../common/role.ts';
import { MemoryStateStore } from '../../common/state/MemoryStateStore.ts';
import { TEST_REDIS_URL, testPrefix } from '../../common/testing.ts';
import type { Presentations } from '../../files/contract.ts';
import { type FileServices, fileServices, presentationService } from '../../files/services.ts';
import type { LocalMediaNode, MediaLoad } from '../../media/contract.ts';
import { createMediaClient } from '../../media/createMediaClient.ts';
import type { TokenClaims } from '../../meeting/contract.ts';
import { type MeetingServices, meetingServices } from '../../meeting/services.ts';

/**
 * A media node that answers without mediasoup: what the meeting and files tiers do to the
 * store is real, only the media calls are stand-ins. `onRegister` lets a test fail or delay a
 * join at the media step.
 */
export class FakeMediaNode {
  readonly nodeId = `media-fake-${randomUUID().slice(0, 6)}`;
  readonly calls: string[] = [];
  onRegister?: () => Promise<void>;

  async registerParticipant(): Promise<{ activeSpeakerId: string | null }> {
    this.calls.push('registerParticipant');
    await this.onRegister?.();
    return { activeSpeakerId: null };
  }

  async produce(): Promise<{ producerId: string }> {
    this.calls.push('produce');
    return { producerId: randomUUID() };
  }

  async closeParticipant(): Promise<Record<string, never>> {
    this.calls.push('closeParticipant');
    return {};
  }

  async closeMeeting(): Promise<Record<string, never>> {
    this.calls.push('closeMeeting');
    return {};
  }
}

export interface ServiceHarness {
  ctx: RoleContext;
  meeting: MeetingServices;
  files: FileServices & { presentations: Presentations };
  media: FakeMediaNode;
  pushNodeId: string;
  /** Every key in the store (without the Redis prefix), sorted. */
  keys(): Promise<string[]>;
  /** Claims for a new participant, as the join route would issue them. */
  joinClaims(meetingId: string, name: string, options?: { host?: boolean }): Promise<TokenClaims>;
  close(): Promise<void>;
}

/**
 * The meeting and files tiers built by their production wiring (`meetingServices`,
 * `fileServices`) over a memory or a Redis store, with a fake media node registered and
 * heartbeating. No HTTP server, no sockets: fast enough for CI.
 */
export async function startServiceHarness(backend: 'memory' | 'redis', env: Record<string, string> = {}): Promise<ServiceHarness> {
  const filesDir = mkdtempSync(path.join(os.tmpdir(), 'convene-harness-'));
  const config = loadConfig({
    ...(backend === 'redis' ? { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: testPrefix('harness') } : {}),
    JWT_SECRET: randomUUID(),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    FILES_DIR: filesDir,
    FILES_CONVERT_ATTEMPTS: '1',
    ...env,
  });
  const backends = await createBackends(config);
  const logger = createLogger({ level: config.LOG_LEVEL, role: 'test', nodeId: config.nodeId });
  const media = new FakeMediaNode();
  const ctx = { config, logger, backends } as unknown as RoleContext;
  const registry = new NodeRegistry<MediaLoad>(backends.store, 'media');
  const heartbeat = async () =>
    registry.write({
      id: media.nodeId,
      url: 'http://127.0.0.1:9',
      state: 'serving',
      load: { workers: 1, rooms: 0, routers: 0, transports: 0, producers: 0, consumers: 0, maxConsumers: 500, cpu: 0 },
    });
  await heartbeat();
  const timer = setInterval(() => {
    heartbeat().catch(() => undefined);
  }, 1000);
  // The fake answers only the calls these tests make; any other would fail as a missing method.
  const meeting = meetingServices(ctx, createMediaClient(ctx, media as unknown as LocalMediaNode));
  const files = { ...fileServices(ctx, meeting.events), presentations: presentationService(ctx, { state: meeting.repo, events: meeting.events }) };
  files.queue.work((job, attempt) => files.files.convert(job, attempt));
  const prefix = backends.redis?.prefix ?? '';

  return {
    ctx,
    meeting,
    files,
    media,
    pushNodeId: `push-fake-${randomUUID().slice(0, 6)}`,
    async keys() {
      if (backends.store instanceof MemoryStateStore) return backends.store.keys().sort();
      const client = backends.redis!.client;
      const found: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        found.push(...batch.map((k) => k.slice(prefix.length)));
      } while (cursor !== '0');
      return [...new Set(found)].sort();
    },
    async joinClaims(meetingId, name, options = {}) {
      const { token } = await meeting.meetings.issueJoinToken(meetingId, { name, asHost: options.host === true });
      return meeting.tokens.verify(token, meetingId);
    },
    async close() {
      clearInterval(timer);
      await files.queue.close();
      await registry.remove(media.nodeId);
      if (backends.redis) {
        const client = backends.redis.client;
        const stale = (await client.keys(`${prefix}*`)) as string[];
        if (stale.length > 0) await client.del(...stale);
      }
      await backends.close();
      rmSync(filesDir, { recursive: true, force: true });
    },
  };
}

/**
 * A one-page PDF written by hand: enough for file-type, pdfinfo and pdftoppm, without starting
 * LibreOffice in a unit test.
 */
export function tinyPdf(): Buffer {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << >> >>',
    '<< /Length 30 >>\nstream\n0 0 1 rg 10 10 180 80 re f\nendstream',
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(Buffer.byteLength(body));
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body);
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body);
}
