import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../common/errors.ts';
import { createHttpServer } from '../../common/http.ts';
import { type ServiceHarness, startServiceHarness } from '../../test/support/services.ts';
import { ApiAuth } from '../auth.ts';
import { TurnCredentials } from '../../common/TurnCredentials.ts';
import { meetingRoutes } from './meetings.ts';

describe('starting meetings without the API key (open mode)', () => {
  let h: ServiceHarness;
  let app: FastifyInstance;

  const start = async (openMeetings?: { perHour: number }) => {
    h = await startServiceHarness('memory');
    app = createHttpServer(h.ctx.logger);
    await app.register(rateLimit, { global: false });
    const gateways = {
      dial: async () => {
        throw new AppError('unavailable', 'no gateway in this test');
      },
    };
    meetingRoutes(app, h.meeting, new ApiAuth(h.ctx.config.apiKey, h.meeting.access), {
      publicUrl: 'http://127.0.0.1',
      joinRateLimit: () => 100,
      gateways,
      turn: new TurnCredentials({ ttlSeconds: 60 }),
      openMeetings,
    });
    await app.ready();
  };
  const create = (headers: Record<string, string> = {}) => app.inject({ method: 'POST', url: '/v1/meetings', payload: { title: 'open' }, headers });

  afterEach(async () => {
    await app?.close();
    await h?.close();
  });

  it('is off by default: the site says so, and a keyless start is refused', async () => {
    await start();
    expect((await app.inject({ url: '/v1/site' })).json()).toEqual({ openMeetings: false });
    const res = await create();
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });

  it('lets anyone start a few meetings an hour, then answers 429, while the key stays unlimited', async () => {
    await start({ perHour: 2 });
    expect((await app.inject({ url: '/v1/site' })).json()).toEqual({ openMeetings: true });
    for (let i = 0; i < 2; i++) {
      const res = await create();
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ id: expect.any(String), hostKey: expect.any(String) });
    }
    const refused = await create();
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect((await create({ 'x-api-key': h.ctx.config.apiKey })).statusCode).toBe(201);
  });
});
