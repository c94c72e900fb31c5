import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { LiveConfig } from '../../common/LiveConfig.ts';
import { liveSettingsSchema } from '../../common/LiveConfig.ts';
import type { AdminAuth } from '../AdminAuth.ts';
import { problem } from '../schemas.ts';

/** The config centre's HTTP face: read and change live settings (the admin key, X-Admin-Key). */
export function adminRoutes(app: FastifyInstance, live: LiveConfig, auth: AdminAuth): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const errors = { 400: problem, 401: problem };

  r.get(
    '/v1/admin/config',
    { schema: { tags: ['admin'], summary: 'Live settings in force on top of the environment', security: [{ adminKey: [] }], response: { 200: liveSettingsSchema, ...errors } } },
    async (request) => {
      auth.requireAdmin(request);
      return live.current();
    },
  );

  r.patch(
    '/v1/admin/config',
    {
      schema: {
        tags: ['admin'],
        summary: 'Change live settings; every process applies them at once, and new processes on start',
        security: [{ adminKey: [] }],
        body: liveSettingsSchema,
        response: { 200: liveSettingsSchema, ...errors },
      },
    },
    async (request) => {
      auth.requireAdmin(request);
      return live.change(request.body);
    },
  );
}
