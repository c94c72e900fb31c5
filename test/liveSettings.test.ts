import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../common/errors.ts';
import { createHttpServer } from '../common/http.ts';
import { LIVE_BOUNDS, LiveConfig } from '../common/LiveConfig.ts';
import type { RoleContext } from '../common/role.ts';
import { startApiRole } from '../api/index.ts';
import { gatewayOptions } from '../gateway-sip/gatewayOptions.ts';
import { type ServiceHarness, startServiceHarness, tinyPdf } from './support/services.ts';

/**
 * The admin API and every live setting, in one process built by the production wiring (the
 * api role over the meeting and files services of test/support/services.ts, a memory store):
 * only the admin key opens /v1/admin, every setting refuses values out of bounds, and each
 * change is in force at once where the setting is used.
 */
const ADMIN = { 'x-admin-key': 'dev-admin-key' };
const APP = { 'x-api-key': 'dev-api-key' };

describe('admin and live settings', () => {
  let h: ServiceHarness;
  let app: FastifyInstance;
  let live: LiveConfig;

  const change = async (settings: Record<string, unknown>) => app.inject({ method: 'PATCH', url: '/v1/admin/config', headers: ADMIN, payload: settings });
  /** A real upload over HTTP (multipart streaming needs a socket), of a valid PDF padded to `bytes`. */
  const upload = async (meetingId: string, bytes: number) => {
    const pdf = tinyPdf();
    // Trailing spaces after %%EOF: still the same valid PDF, of the size wanted.
    const data = Buffer.concat([pdf, Buffer.alloc(Math.max(0, bytes - pdf.length), 0x20)]);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(data)]), 'deck.pdf');
    const res = await fetch(`${base}/v1/meetings/${meetingId}/files`, { method: 'POST', headers: APP, body: form });
    return { statusCode: res.status, body: await res.text() };
  };
  let base: string;

  beforeAll(async () => {
    h = await startServiceHarness('memory', { FILES_MAX_BYTES: '4096', JOIN_RATE_LIMIT: '50' });
    live = new LiveConfig(h.ctx.config, h.ctx.backends.store, h.ctx.backends.bus, h.ctx.logger);
    await live.start();
    app = createHttpServer(h.ctx.logger);
    const ctx = { ...h.ctx, http: app, live, metrics: new Registry() } as RoleContext;
    const dialer = {
      dial: async () => {
        throw new AppError('unavailable', 'no gateway in this test');
      },
    };
    await startApiRole(ctx, { meeting: h.meeting, files: h.files.files, dialer });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await live.stop();
    await app.close();
    await h.close();
  });

  it('opens /v1/admin only with the admin key, not the apps\' API key', async () => {
    for (const headers of [{}, APP, { 'x-admin-key': 'dev-api-key' }]) {
      expect((await app.inject({ method: 'GET', url: '/v1/admin/config', headers })).statusCode).toBe(401);
      expect((await app.inject({ method: 'PATCH', url: '/v1/admin/config', headers, payload: { CHAT_MAX_LENGTH: 100 } })).statusCode).toBe(401);
    }
    expect((await app.inject({ method: 'GET', url: '/v1/admin/config', headers: ADMIN })).statusCode).toBe(200);
  });

  it('refuses every setting out of its bounds and changes nothing', async () => {
    const before = (await app.inject({ method: 'GET', url: '/v1/admin/config', headers: ADMIN })).json();
    for (const [name, { min, max }] of Object.entries(LIVE_BOUNDS)) {
      for (const value of [min - 1, max + 1, 2_000_000_000_000, 1.5]) {
        const res = await change({ [name]: value });
        expect(res.statusCode, `${name}=${value}`).toBe(400);
      }
    }
    expect((await change({ CHAT_MAX_LENGTH: 2_000_000_000 })).statusCode).toBe(400);
    expect((await change({ LOG_LEVEL: 'verbose' })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/v1/admin/config', headers: ADMIN })).json()).toEqual(before);
    expect(h.ctx.config.CHAT_MAX_LENGTH).toBe(2000);
  });

  it('LOG_LEVEL: the process logger at once', async () => {
    expect((await change({ LOG_LEVEL: 'debug' })).statusCode).toBe(200);
    expect(h.ctx.logger.level).toBe('debug');
    await change({ LOG_LEVEL: 'silent' });
    expect(h.ctx.logger.level).toBe('silent');
  });

  it('CHAT_MAX_LENGTH: the next chat message', async () => {
    const { id } = await h.meeting.meetings.create({ title: 'chat' });
    const from = { id: 'p_1', name: 'Ann' };
    await h.meeting.meetings.postChat(id, from, 'x'.repeat(30));
    expect((await change({ CHAT_MAX_LENGTH: 20 })).statusCode).toBe(200);
    await expect(h.meeting.meetings.postChat(id, from, 'x'.repeat(30))).rejects.toMatchObject({ code: 'message_too_long' });
    expect((await change({ CHAT_MAX_LENGTH: LIVE_BOUNDS.CHAT_MAX_LENGTH.max })).statusCode).toBe(200);
    await h.meeting.meetings.postChat(id, from, 'x'.repeat(LIVE_BOUNDS.CHAT_MAX_LENGTH.max));
  });

  it('RECONNECT_GRACE_MS: seats held from then on are released after the new grace', async () => {
    const { id } = await h.meeting.meetings.create({ title: 'grace' });
    const claims = await h.joinClaims(id, 'Bob');
    await h.meeting.seats.join(claims, 'socket-bob', { rtpCapabilities: {}, receiveVideo: false }, h.pushNodeId);
    await h.meeting.seats.disconnected(id, claims.sub, 'socket-bob');
    const later = Date.now() + 2_000;
    // The start-up grace (30 s) still holds the seat 2 s on; a 1 s grace no longer does.
    expect(await h.meeting.seats.releaseExpired(later)).toBe(0);
    expect((await change({ RECONNECT_GRACE_MS: 1_000 })).statusCode).toBe(200);
    expect(await h.meeting.seats.releaseExpired(later)).toBe(1);
  });

  it('JOIN_RATE_LIMIT: join tokens per address from the next request', async () => {
    const { id } = await h.meeting.meetings.create({ title: 'rate', maxParticipants: 1000 });
    const join = async () => (await app.inject({ method: 'POST', url: `/v1/meetings/${id}/join`, payload: { name: 'Eve' }, remoteAddress: '198.18.0.77' })).statusCode;
    expect((await change({ JOIN_RATE_LIMIT: 2 })).statusCode).toBe(200);
    expect([await join(), await join(), await join()]).toEqual([200, 200, 429]);
    expect((await change({ JOIN_RATE_LIMIT: 10 })).statusCode).toBe(200);
    expect(await join()).toBe(200);
  });

  it('FILES_MAX_BYTES: raised live, the multipart limit of the next upload follows', async () => {
    const { id } = await h.meeting.meetings.create({ title: 'size' });
    const first = await upload(id, 6000);
    expect(first.statusCode, first.body).toBe(413);
    expect((await change({ FILES_MAX_BYTES: 8192 })).statusCode).toBe(200);
    const second = await upload(id, 6000);
    expect(second.statusCode, second.body).toBe(201);
    expect((await change({ FILES_MAX_BYTES: 2048 })).statusCode).toBe(200);
    expect((await upload(id, 3000)).statusCode).toBe(413);
  });

  it("FILES_QUOTA_BYTES: a meeting's next upload", async () => {
    await change({ FILES_MAX_BYTES: 8192 });
    const { id } = await h.meeting.meetings.create({ title: 'quota' });
    expect((await change({ FILES_QUOTA_BYTES: 5000 })).statusCode).toBe(200);
    expect((await upload(id, 3000)).statusCode).toBe(201);
    const over = await upload(id, 3000);
    expect(over.statusCode).toBe(413);
    expect(JSON.parse(over.body).code).toBe('quota_exceeded');
    expect((await change({ FILES_QUOTA_BYTES: 1024 ** 2 })).statusCode).toBe(200);
    expect((await upload(id, 3000)).statusCode).toBe(201);
  });

  it('SIP_RTP_TIMEOUT_MS: the silence limit the gateway reads at each check, calls in progress included', async () => {
    // Gateway#checkRtp reads options.rtpTimeoutMs every second (test/sip.e2e.test.ts covers the hang-up itself).
    const options = gatewayOptions(h.ctx.config);
    expect(options.rtpTimeoutMs).toBe(h.ctx.config.SIP_RTP_TIMEOUT_MS);
    expect((await change({ SIP_RTP_TIMEOUT_MS: 4_000 })).statusCode).toBe(200);
    expect(options.rtpTimeoutMs).toBe(4_000);
  });
});
