import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { joinOutcomes } from '../common/joinOutcomes.ts';
import type { RoleContext, RunningRole } from '../common/role.ts';
import type { Files } from '../files/contract.ts';
import type { GatewayDialer } from '../gateway-sip/contract.ts';
import type { MeetingApi } from '../meeting/contract.ts';
import { AdminAuth } from './AdminAuth.ts';
import { ApiAuth } from './auth.ts';
import { adminRoutes } from './routes/admin.ts';
import { fileRoutes } from './routes/files.ts';
import { meetingRoutes } from './routes/meetings.ts';
import { participantRoutes } from './routes/participants.ts';
import { docsStyles, registerSecurityHeaders } from './securityHeaders.ts';
import { TurnCredentials } from '../common/TurnCredentials.ts';

// From api/ as TypeScript source, from dist/api/ once compiled: the bundle is at the repository's web/dist.
const here = path.dirname(fileURLToPath(import.meta.url));
const WEB_DIST = [path.resolve(here, '../web/dist'), path.resolve(here, '../../web/dist')].find((p) => existsSync(p)) ?? path.resolve(here, '../web/dist');

/** What the api role calls: the meeting domain, the files of meetings, and SIP dial-out. */
export interface ApiRoleDeps {
  meeting: MeetingApi;
  files: Files;
  dialer: GatewayDialer;
}

export async function startApiRole(ctx: RoleContext, deps: ApiRoleDeps): Promise<RunningRole> {
  const { http: app, config } = ctx;
  const services = deps.meeting;
  const auth = new ApiAuth(config.apiKey, services.access);
  const adminAuth = new AdminAuth(config.adminApiKey);
  const joins = joinOutcomes(ctx.metrics);
  joins.inc({ stage: 'token', code: 'ok' }, 0);

  await registerSecurityHeaders(app);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Convene API', version: '1', description: 'Meetings, join tokens and host actions. Signalling is socket.io; see docs/architecture.md.' },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
          adminKey: { type: 'apiKey', in: 'header', name: 'X-Admin-Key' },
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // No validator badge: it would load an image from validator.swagger.io, which the CSP forbids.
    uiConfig: { validatorUrl: null },
    // swagger-ui injects a <style> element; only its pages may apply inline styles.
    transformStaticCSP: docsStyles,
  });
  await app.register(rateLimit, { global: false });
  // One file per request; the storage layer enforces the exact limit while streaming, and each
  // upload passes the file size in force then (UploadRequest.open): FILES_MAX_BYTES is live.
  // preservePath: see the name as sent, so that a name with a path is refused, not silently cut.
  await app.register(multipart, { preservePath: true, limits: { files: 1, fields: 10, parts: 20 } });

  const turn = TurnCredentials.fromConfig(config);
  // TURN_URLS is a shared setting (every role gets it); the secret the api and push need.
  if (config.TURN_URLS?.some((url) => url.startsWith('turn')) && !config.TURN_SECRET) {
    ctx.logger.warn('TURN_URLS names a TURN server but TURN_SECRET is not set: clients get no TURN credentials and firewalled ones cannot connect');
  }
  await app.register((scope, _options, done) => {
    meetingRoutes(scope, services, auth, {
      publicUrl: config.publicUrl,
      joinRateLimit: () => config.JOIN_RATE_LIMIT,
      gateways: deps.dialer,
      openMeetings: config.OPEN_MEETINGS ? { perHour: config.OPEN_MEETINGS_PER_HOUR } : undefined,
      turn,
      onJoin: (code) => joins.inc({ stage: 'token', code }),
    });
    participantRoutes(scope, services, auth);
    fileRoutes(scope, deps.files, services.meetings, auth, {
      idleMs: config.FILES_UPLOAD_IDLE_TIMEOUT_MS,
      totalMs: config.FILES_UPLOAD_TIMEOUT_MS,
      get drainBytes() {
        return config.FILES_MAX_BYTES + 64 * 1024;
      },
      get maxBytes() {
        return config.FILES_MAX_BYTES;
      },
    });
    adminRoutes(scope, ctx.live, adminAuth);
    done();
  });

  // The reference web client: built by `npm run build:web`, served without any CDN.
  if (existsSync(WEB_DIST)) {
    await app.register(fastifyStatic, { root: WEB_DIST, prefix: '/web/', preCompressed: true });
    const page = readFileSync(path.join(WEB_DIST, 'index.html'), 'utf8');
    app.get('/m/:meetingId', { schema: { hide: true } }, async (_request, reply) => reply.type('text/html').send(page));
    app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.type('text/html').send(page));
  } else {
    ctx.logger.warn('web/dist is missing; run `npm run build:web` to serve the web client');
  }

  return { name: 'api', close: async () => undefined };
}
