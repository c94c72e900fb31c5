import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../common/errors.js';
import type { RoleContext } from '../common/role.js';
import { internalKeyFrom } from '../media/internalRoutes.js';
import type { Gateway } from './Gateway.js';

const dialBody = z.object({ meetingId: z.string().min(1).max(64), uri: z.string().regex(/^sips?:[^\s]+$/) });

/** Lets the api tier of any process ask this gateway to call out. */
export function registerGatewayRoutes(ctx: RoleContext, gateway: Gateway): void {
  const key = internalKeyFrom(ctx.config.jwtSecret);
  ctx.http.post('/internal/sip/dial', { schema: { hide: true } }, async (request) => {
    const given = request.headers['x-internal-key'];
    if (typeof given !== 'string' || given.length !== key.length || !timingSafeEqual(Buffer.from(given), Buffer.from(key))) {
      throw new AppError('unauthorized', 'internal calls need the internal key');
    }
    const parsed = dialBody.safeParse(request.body);
    if (!parsed.success) throw new AppError('validation_failed', 'expected { meetingId, uri }');
    return gateway.dial(parsed.data.meetingId, parsed.data.uri);
  });
}
