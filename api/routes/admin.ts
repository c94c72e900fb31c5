import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { LiveConfig } from '../../common/LiveConfig.ts';
import { liveSettingsSchema } from '../../common/LiveConfig.ts';
import type { ApiAuth } from '../auth.ts';
import { problem } from '../schemas.ts';

/** The config centre's HTTP face: read and change live settings (API key). */
export function adminRoutes(app: FastifyInstance, live: LiveConfig, auth: ApiAuth): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const errors = { 400: problem, 401: problem };

  r.get(
    '/v1/admin/config',
    { schema: { tags: ['admin'], summary: 'Live settings in force on top of the environment', security: [{ apiKey: [] }], response: { 200: liveSettingsSchema, ...errors } } },
    async (request) => {
      auth.requireApiKey(request);
      return live.current();
    },
  );

  r.patch(
    '/v1/admin/config',
    {
      schema: {
        tags: ['admin'],
        summary: 'Change live settings; every process applies them at once, and new processes on start',
        security: [{ apiKey: [] }],
        body: liveSettingsSchema,
        response: { 200: liveSettingsSchema, ...errors },
      },
    },
    async (request) => {
      auth.requireApiKey(request);
      return live.change(request.body);
    },
  );
}
