import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpServer } from '../common/http.ts';
import { INTERNAL_KEY_HEADER } from '../common/internalKey.ts';
import { MEDIA_API_VERSION, MEDIA_API_VERSION_HEADER, MEDIA_METHODS, type MediaApi, mediaParams } from './contract.ts';
import { registerMediaRoutes } from './internalRoutes.ts';

const KEY = 'k'.repeat(64);

describe('the media RPC over HTTP', () => {
  let app: FastifyInstance;
  const seen: Array<{ method: string; params: unknown }> = [];

  beforeEach(async () => {
    seen.length = 0;
    // Every method records what reached it: only validated parameters may.
    const node = Object.fromEntries(
      MEDIA_METHODS.map((method) => [
        method,
        async (params: unknown) => {
          seen.push({ method, params });
          return {};
        },
      ]),
    ) as unknown as MediaApi;
    app = createHttpServer(pino({ level: 'silent' }));
    registerMediaRoutes(app, node, KEY);
    await app.ready();
  });
  afterEach(() => app.close());

  const call = (method: string, params: unknown, version: string | undefined = String(MEDIA_API_VERSION)) =>
    app.inject({
      method: 'POST',
      url: `/internal/media/${method}`,
      headers: { [INTERNAL_KEY_HEADER]: KEY, ...(version === undefined ? {} : { [MEDIA_API_VERSION_HEADER]: version }) },
      payload: { requestId: `r-${Math.random()}`, params },
    });

  it('lists exactly the methods that have a schema', () => {
    expect(MEDIA_METHODS).toEqual(Object.keys(mediaParams));
  });

  it('passes valid parameters on, without fields it does not know', async () => {
    const res = await call('closeParticipant', { meetingId: 'm1', participantId: 'p1', fromANewerVersion: true });
    expect(res.statusCode).toBe(200);
    expect(seen).toEqual([{ method: 'closeParticipant', params: { meetingId: 'm1', participantId: 'p1' } }]);
  });

  it('refuses parameters that do not match the schema with validation_failed', async () => {
    const res = await call('connectPlainTransport', { meetingId: 'm1', participantId: 'p1', transportId: 't1', ip: '127.0.0.1', port: 70_000 });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed', details: [{ path: 'port' }] });
    expect(seen).toEqual([]);
  });

  it('answers the previous version, and a caller from before versions were sent', async () => {
    expect((await call('closeMeeting', { meetingId: 'm1' }, String(MEDIA_API_VERSION - 1))).statusCode).toBe(200);
    expect((await call('closeMeeting', { meetingId: 'm1' }, undefined)).statusCode).toBe(200);
  });

  it('refuses a version it does not speak, saying which it does', async () => {
    const res = await call('closeMeeting', { meetingId: 'm1' }, String(MEDIA_API_VERSION + 1));
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toContain(`media API version ${MEDIA_API_VERSION + 1} is not supported`);
    expect(seen).toEqual([]);
  });

  it('refuses an unknown method', async () => {
    expect((await call('dropTables', {})).json()).toMatchObject({ code: 'not_found' });
  });
});
