import { z } from 'zod';
import { AppError } from '../common/errors.ts';
import type { RoleContext } from '../common/role.ts';
import { internalKeyFrom, requireInternalKey } from '../common/internalKey.ts';
import type { Gateway } from './Gateway.ts';

const dialBody = z.object({ meetingId: z.string().min(1).max(64), uri: z.string().regex(/^sips?:[^\s]+$/) });

/** Lets the api tier of any process ask this gateway to call out. */
export function registerGatewayRoutes(ctx: RoleContext, gateway: Gateway): void {
  const key = internalKeyFrom(ctx.config.jwtSecret);
  ctx.http.post('/internal/sip/dial', { schema: { hide: true } }, async (request) => {
    requireInternalKey(request, key);
    const parsed = dialBody.safeParse(request.body);
    if (!parsed.success) throw new AppError('validation_failed', 'expected { meetingId, uri }');
    return gateway.dial(parsed.data.meetingId, parsed.data.uri);
  });
}
