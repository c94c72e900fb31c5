import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { mediaReadiness } from '../media/readiness.ts';
import { registerHealthRoutes } from './health.ts';
import { createHttpServer } from './http.ts';
import type { RunningRole } from './role.ts';
import { MemoryStateStore } from './state/MemoryStateStore.ts';
import { outageStore } from './testing.ts';

function server(roles: RunningRole[]) {
  const store = outageStore(new MemoryStateStore());
  const app = createHttpServer(pino({ level: 'silent' }));
  registerHealthRoutes(app, { store, roles: () => roles, describe: () => ({ nodeId: 'n1' }) });
  return { app, store };
}

describe('/livez, /readyz and /healthz', () => {
  it('is ready with the store up, and answers 503 with a reason when the store is down, while /livez stays 200', async () => {
    const { app, store } = server([{ name: 'api', close: async () => undefined }]);
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    expect((await app.inject('/healthz')).json()).toMatchObject({ status: 'ok', nodeId: 'n1' });
    store.down = true;
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: 'unready', reasons: ['shared state store unreachable'] });
    const health = await app.inject('/healthz');
    expect(health.statusCode).toBe(503);
    expect(health.json()).toMatchObject({ status: 'unready', reasons: ['shared state store unreachable'], nodeId: 'n1' });
    expect((await app.inject('/livez')).statusCode).toBe(200);
  });

  it('answers 503 for a draining media node and for one with no live worker', async () => {
    const pool = { size: 1 };
    const node = { draining: false };
    const media: RunningRole = { name: 'media', ready: async () => mediaReadiness(pool, node), close: async () => undefined };
    const { app } = server([media]);
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    node.draining = true;
    expect((await app.inject('/readyz')).json()).toEqual({ status: 'unready', reasons: ['media: draining'] });
    node.draining = false;
    pool.size = 0;
    const res = await app.inject('/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'unready', reasons: ['media: no live mediasoup worker'] });
  });
});
