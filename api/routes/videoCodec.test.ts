import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../common/errors.ts';
import { createHttpServer } from '../../common/http.ts';
import { type ServiceHarness, startServiceHarness } from '../../test/support/services.ts';
import { ApiAuth } from '../auth.ts';
import { TurnCredentials } from '../../common/TurnCredentials.ts';
import { meetingRoutes } from './meetings.ts';

describe('the videoCodec setting over HTTP', () => {
  let h: ServiceHarness;
  let app: FastifyInstance;
  const headers = () => ({ 'x-api-key': h.ctx.config.apiKey });

  beforeEach(async () => {
    h = await startServiceHarness('memory');
    app = createHttpServer(h.ctx.logger);
    const gateways = {
      dial: async () => {
        throw new AppError('unavailable', 'no gateway in this test');
      },
    };
    meetingRoutes(app, h.meeting, new ApiAuth(h.ctx.config.apiKey, h.meeting.access), { publicUrl: 'http://127.0.0.1', joinRateLimit: () => 100, gateways, turn: new TurnCredentials({ ttlSeconds: 60 }) });
    await app.ready();
  });
  afterEach(async () => {
    await app.close();
    await h.close();
  });

  it('is auto unless given, is set on creation and by PATCH, and is shown in the meeting view', async () => {
    const plain = await app.inject({ method: 'POST', url: '/v1/meetings', headers: headers(), payload: { title: 'plain' } });
    expect(plain.json().videoCodec).toBe('auto');
    const created = await app.inject({ method: 'POST', url: '/v1/meetings', headers: headers(), payload: { title: 'h264', videoCodec: 'h264' } });
    expect(created.statusCode).toBe(201);
    expect(created.json().videoCodec).toBe('h264');
    const id = created.json().id as string;
    const patched = await app.inject({ method: 'PATCH', url: `/v1/meetings/${id}`, headers: headers(), payload: { videoCodec: 'vp9' } });
    expect(patched.json().videoCodec).toBe('vp9');
    expect((await app.inject({ method: 'GET', url: `/v1/meetings/${id}` })).json().videoCodec).toBe('vp9');
  });

  it('refuses a codec it does not offer', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/meetings', headers: headers(), payload: { videoCodec: 'av1' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('validation_failed');
  });
});
